"""Run at every start of a Python with bot/ on its path: the Rasa server's TensorFlow switch.

`rasa run` gets OPASTIN_TENSORFLOW_STANDIN=1 from its launcher (opastin.stack, the image's
entrypoint) and then imports a stand-in instead of TensorFlow (bot/tensorflow_standin.py) and
leaves a model's training graph undeserialised (bot/server_model_load.py): ~280 MB less
per server. Unset or 0: nothing changes, as for every other Rasa command (train, shell,
interactive, test) and every other Python; any other value is a typo and stops the process.
"""

import os

_value = os.environ.get("OPASTIN_TENSORFLOW_STANDIN", "")
if _value == "1":
    import tensorflow_standin

    tensorflow_standin.install()
    import server_model_load

    server_model_load.install()
elif _value not in ("", "0"):
    raise SystemExit(f"error: OPASTIN_TENSORFLOW_STANDIN must be 1, 0 or unset, not {_value!r}")
