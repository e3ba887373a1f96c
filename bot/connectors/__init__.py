"""Our own Rasa input channels, fixing defects of Rasa 3.6.21's built-in ones.

They run inside the Rasa server (.venvs/rasa, Python 3.10) and use only Rasa's dependencies.
"""

from connectors.log_privacy import install as _install_log_privacy

_install_log_privacy()  # Rasa's tracker-store errors would log users' words (log_privacy.py)
