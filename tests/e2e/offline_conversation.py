"""Start both real servers and hold three conversations; meant to run without a network.

Run by tests/e2e/test_offline.py inside a network namespace that has only loopback, under
strace. Prints one JSON line: {question: [organisation ids named in the payload]}.
Usage: python tests/e2e/offline_conversation.py MODEL_PATH WORKDIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from opastin.config import Settings  # noqa: E402
from tools.eval.dialogue import ask, payload_of  # noqa: E402
from tools.servers import throwaway_stack  # noqa: E402

QUESTIONS = ["How do I get a tax card?", "I need a residence permit", "Miten saan verokortin?"]


def main(model: Path, workdir: Path) -> int:
    named: dict[str, list[str]] = {}
    with throwaway_stack(Settings(), model, workdir) as stack:
        for number, question in enumerate(QUESTIONS):
            answer = payload_of(ask(stack.rasa_url, f"offline-{number}", question))
            named[question] = [o["id"] for o in answer.get("organisations", [])]
    print(json.dumps(named))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
