"""Our own Rasa policies (run inside the Rasa server, .venvs/rasa).

Importing this package (Rasa does, for the policy in config.yml) also makes Rasa check
action-server responses with one prepared validator (action_response_validation.py).
"""

from policies.action_response_validation import install

install()
