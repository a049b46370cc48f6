"""The word lists of the speech rules (:mod:`redact.speech.rules`): number words, months, titles, relations,
words that are never a name, the spoken labels of personal values and the words allowed around them."""

from __future__ import annotations

from redact import pii

UNITS = {"zero": 0, "nought": 0, "naught": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
         "seven": 7, "eight": 8, "nine": 9}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
         "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
ORD_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9}
ORD_TEENS = {"tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
             "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
             "thirtieth": 30}
MONTHS = frozenset("january february march april may june july august september october november december "
                   "jan feb mar apr jun jul aug sep sept oct nov dec".split())
TITLES = frozenset("dr doctor mr mister mrs missus misses ms miss mx prof professor nurse sister matron "
                   "father reverend rev sir dame lord lady".split())
SURE_TITLES = frozenset("dr mr mister mrs missus misses ms mx prof professor".split())
"""Titles after which the next word is a name even when the recogniser did not capitalise it."""
RELATIONS = frozenset("son daughter husband wife partner mum mother dad father brother sister friend grandson "
                      "granddaughter nephew niece cousin carer neighbour boyfriend girlfriend fiance fiancee uncle "
                      "auntie aunt grandma grandad granddad nan nana colleague".split())
GREETINGS = frozenset("hello hi hiya hey morning afternoon evening night thanks cheers bye goodbye sorry dear "
                      "welcome".split())
SPEECH_STOP = frozenset("""
i i'm i'll i've i'd im it's its it'll that's there's here's what's let's we'll we're we've you're you'll you've
he's she's they're they'll don't can't won't didn't isn't wasn't aren't couldn't wouldn't shouldn't haven't hasn't
hello hi hiya hey morning afternoon evening good okay ok yes yeah yep no nope oh um uh er erm ah mm hmm right well
so sorry please thanks thank cheers bye goodbye alright sure just great lovely love dear darling sweetheart mate
pet mum dad mummy daddy nan grandma grandad god jesus christ lord christmas easter english british scottish welsh
irish covid corona gp a&e icu itu hdu ecg ekg bp mri ct cpr dnr iv ok sats obs tv
can could would should will shall may might must let take give press are is do did does have has had how why
where when what who whom whose which just now then here there today tonight tomorrow yesterday also again
actually anyway maybe perhaps because but and or if so though although while after before since until
we you he she they me him them us my your his its our their mine yours this that these those some many much
few every each both either neither another other such same own all any none nothing something anything
everything someone anyone everyone nobody somebody everybody
be been being am was were get got getting go going gone went come coming came make made see seen saw look
looking looked know knew known think thought say said tell told ask asked want wanted need needed feel felt
try tried put keep kept leave left stay sit stand lie walk turn hold bring brought call called ring
one two three four five six seven eight nine ten first second third last next once twice half quarter
hour hours minute minutes second seconds day days week weeks month months year years morning night o'clock
pain pains tablet tablets medicine medication dose bloods blood pressure temperature sugar sugars tea coffee
water breakfast lunch dinner toilet bed bath shower doctor doctors nurse nurses sister matron consultant
registrar physio pharmacist porter surgeon anaesthetist midwife ward theatre scan x-ray operation
mister missus mrs mr ms miss dr prof professor
yes no not never always often sometimes very really quite too more most less least little lot lots bit
new old big small long short high low hot cold warm better worse best worst fine well sick ill
world cardiology cardiologic cardiac oncology neurology neurological orthopaedics orthopedics urology gynaecology
obstetrics haematology dermatology respiratory renal stroke geriatrics elderly rheumatology gastroenterology
endoscopy dialysis physiotherapy occupational therapy radiotherapy chemotherapy vascular trauma orthopaedic
outpatient inpatient paracetamol ibuprofen morphine codeine insulin antibiotics oramorph warfarin aspirin
thank thanks sorry ok okay check wait listen look hang excuse bless oops gosh wow perfect brilliant nice
fantastic cool done ready careful easy gently slowly relax breathe push squeeze up down yay bravo
""".split()) | pii.STOP_WORDS
"""Words that are never taken for a name on their own (the recogniser capitalises them at a sentence's start)."""
FILLERS = frozenset("""
is it's its was it that's that it'll be will um uh er erm ah oh mm hmm so and yes yeah yep right okay ok
for me please the a an on in at just sure um, of
""".split())
"""Words allowed between a spoken label and its value ("date of birth ... for me? Yes, it's the ...")."""
NUMBER_GLUE = frozenset({"and", "or", "dash", "double", "triple", "oh", "o", "to", "for", "a"})
"""Words allowed between the digits of one spoken number."""
DATE_GLUE = frozenset("of on the and in nineteen twenty oh slash".split())
NAME_BREAK = frozenset("""and but or from is was the a an to at in on of for with who which that i i'm i've i'll
i'd we you he she they it it's this my your his her our their please can could will would about""".split())
NOT_NAME = frozenset("""
going gonna gotta here there back off out up down away over afraid worried glad happy pleased sure fine okay
feeling tired hungry thirsty cold hot sore better worse poorly unwell ill sick allergic diabetic pregnant
not just only still also really very quite so too a an the some any your my his her our their this that
what where when why how who which whose whom because about with without from for to of in on at by as than
will would can could should shall may might must is was are were be been am has have had do does did
lives live lived works work worked said says say told tells asked asks wants wanted needs needed comes came
coming brought brings visits visited rang rings phoned called calls left leaves stays stayed knows knew
thinks thought looks looked gets got goes went sees saw takes took makes made here's there's send sends sent
won't can't don't didn't isn't wasn't aren't couldn't wouldn't shouldn't haven't hasn't doesn't
he's she's they're we're you're i'll we'll you'll he'll she'll they'll i've we've you've i'd
now then today tonight tomorrow yesterday later soon again always never sometimes usually
""".split())
"""Words after a name trigger ("I'm", "this is", a title, "my son") that are plainly not a name: the name, if
any, ends before them ("I'm going to ...", "my son is ...", "the doctor will ...")."""
NAME_GLUE = frozenset("a an the some any your my his her our their this that".split())
"""Words of :data:`NOT_NAME` that may be part of a name mis-heard after a title ("Nurse our catheter" for "Nurse
Okafor"): after a title they do not end the name (a title is rarely followed by them in ordinary talk)."""
NAME_TRIGGER_DETERMINERS = frozenset("the a an your my his her our their this that any every each another".split())
"""A title after one of these is a common noun ("the doctor said ..."): only capitalised names follow it."""
POSSESSIVES = frozenset("my your his her our their".split())
"""Before a family word, these make it a name trigger ("my husband ...", "her son ...")."""
NAME_LABELS = (("name", "is"), ("name", "was"), ("name's",), ("names",), ("called",), ("call", "me"),
               ("surname",), ("surname", "is"), ("full", "name"), ("first", "name"), ("known", "as"),
               ("name", "please"))
NUMBER_TRIGGERS = {
    "nhs": "nhs_number", "n.h.s": "nhs_number", "nhs.": "nhs_number", "nhsn": "nhs_number",
    "hospital": "hospital_number", "mrn": "hospital_number", "unit": "hospital_number",
    "reference": "hospital_number", "id": "hospital_number", "patient": "hospital_number",
    "phone": "phone", "telephone": "phone", "mobile": "phone", "landline": "phone", "contact": "phone",
    "call": "phone", "ring": "phone", "text": "phone", "extension": "phone", "ext": "phone", "bleep": "phone",
    "number": "", "numbers": "", "no": "", "on": "",
}
"""Words after which a run of digits is an identifier (the category: "" when the digits decide)."""
ADDRESS_TRIGGERS = (("live", "at"), ("lives", "at"), ("living", "at"), ("lived", "at"), ("live", "on"),
                    ("lives", "on"), ("living", "on"), ("address", ), ("address", "is"), ("still", "at"),
                    ("stay", "at"), ("staying", "at"), ("moved", "to"), ("home", "is"))
POSTCODE_TRIGGERS = (("postcode",), ("post", "code"), ("postal", "code"), ("zip", "code"), ("postcodes",))
DOB_TRIGGERS = frozenset("birth born dob d.o.b birthday birthdate".split())

ABBREVIATIONS = frozenset("dr mr mrs ms mx prof st no rev".split())
"""Words written with a full stop that does not end a sentence ("Dr. Patel"; a single letter "S.")."""
LETTER_NAMES = {"double": "", "you": "U", "u": "U", "why": "Y", "ex": "X", "bee": "B", "see": "C", "sea": "C",
                "dee": "D", "gee": "G", "jay": "J", "kay": "K", "el": "L", "em": "M", "en": "N", "pee": "P",
                "queue": "Q", "cue": "Q", "are": "R", "tee": "T", "vee": "V", "zed": "Z", "aitch": "H", "eh": "A",
                "oh": "0", "o": "O"}
"""Letters as said aloud, for postcodes spelt a character at a time."""
GAP_WORDS = frozenset("and or dash hyphen space double triple then go no know don't low dub oh o all owe alone done".split())
"""Words the recogniser may put between the digit groups of one spoken number."""
GAP_STOP = frozenset("""is was are the my your his her this that it's you he she we they i i'm but so because please
thank thanks okay ok yes no not""".split())
"""Words that usually end a value (never taken as a mis-heard part of it)."""

LABELS: tuple[tuple[tuple[str, ...], str, int, bool], ...] = (
    (("date", "of", "birth"), "date", 6, True), (("birth",), "date", 6, True), (("born",), "date", 5, False),
    (("dob",), "date", 6, True), (("d.o.b",), "date", 6, True), (("birthday",), "date", 6, False),
    (("nhs", "number"), "nhs_number", 12, True), (("nhs", "no"), "nhs_number", 12, True),
    (("hospital", "number"), "hospital_number", 10, True), (("unit", "number"), "hospital_number", 10, True),
    (("patient", "number"), "hospital_number", 10, True), (("mrn",), "hospital_number", 10, True),
    (("phone", "number"), "phone", 12, True), (("mobile", "number"), "phone", 12, True),
    (("contact", "number"), "phone", 12, True), (("mobile",), "phone", 12, False),
    (("telephone",), "phone", 12, False), (("landline",), "phone", 12, False), (("phone",), "phone", 12, False),
    (("postcode",), "postcode", 6, True), (("post", "code"), "postcode", 6, True),
    (("postal", "code"), "postcode", 6, True), (("code", "is"), "postcode", 6, False),
    (("address",), "address", 8, True), (("live", "at"), "address", 8, True), (("lives", "at"), "address", 8, True),
    (("living", "at"), "address", 8, True),
    (("name", "is"), "name", 3, True), (("name's",), "name", 3, True), (("full", "name"), "name", 3, True),
    (("surname",), "name", 3, True), (("first", "name"), "name", 3, True), (("last", "name"), "name", 3, True),
    (("your", "name"), "name", 3, True),
)
"""Spoken labels whose value is personal: the label's words, the value's category, at most how many words it takes,
and whether it is taken whatever it sounds like (False: only when it starts as such a value should: digits,
a date; "the phone is on the table", "born premature")."""
LEAD = frozenset("is it's its was are um uh er erm ah please then again number no name on in".split())
"""Words between a label and its value ("NHS number is ...")."""
ANSWER_LEAD = frozenset("yes yeah yep yup sure ok okay it's its it is that's that um uh er erm ah oh right so my "
                        "was well".split())
"""Words at the start of an answer, before the value ("... date of birth? Yes, it's ...")."""
VALUE_STOP = frozenset("and but so because though although".split())
