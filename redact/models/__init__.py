"""Model weights that ship inside the ``redact`` package (read with :mod:`importlib.resources`).

``centerface.onnx``: the CenterFace face detector (MIT; provenance and licence texts in
``LICENSE-centerface.txt``, hash in ``models/README.md`` and :data:`redact.detect.faces.CENTERFACE_SHA256`).
"""
