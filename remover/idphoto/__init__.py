"""Passport / ID photo mode: find one face, frame it to a document's geometry rules, replace the
background, and report measure by measure whether the result complies.

Pure Python (numpy, OpenCV, LiteRT for the face models, Pillow); no Django imports, so the CLI,
the web worker and the benchmark share it. Start at :func:`remover.idphoto.pipeline.make_id_photo`.
"""
