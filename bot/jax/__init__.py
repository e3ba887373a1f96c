"""Not jax: keeps the real jax out of the Rasa process (bot/ comes first on Rasa's PYTHONPATH).

TensorFlow 2.12 depends on jax and imports it at start-up only for TFLite's jax converter
(`tensorflow/lite/python/util.py`, which falls back when the import fails). Rasa and this
bot never use either, yet loading jax and jaxlib's XLA extension cost every Rasa process
~60 MB of resident memory (646 -> 586 MB after loading the model and parsing one message,
docs/performance.md "Third pass"). Importing this package fails, as if jax were not
installed; the real jax stays installed for TensorFlow's dependency metadata.
"""

raise ImportError("jax is kept out of the Rasa process (bot/jax/__init__.py)")
