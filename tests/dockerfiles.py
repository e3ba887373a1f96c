"""What an image's Dockerfile installs, read from the Dockerfile itself (standard library only).

Shared by tests/rasa_venv/test_rasa_image.py (Python 3.10, the Rasa venv) and
tests/images/ (which run the Dockerfiles' pip commands in scratch venvs), so that both read
the same instructions the same way.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from pathlib import Path


def final_stage(dockerfile: str) -> str:
    """The instructions of the image's last build stage (earlier stages only prepare files)."""
    return re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[-1]


def instructions(dockerfile: str) -> list[str]:
    """One string per instruction: continuation lines joined; comments and heredoc bodies
    (the Python a RUN feeds to `python -`) dropped."""
    found: list[str] = []
    ends = ""
    for line in re.sub(r"\\\n", " ", dockerfile).splitlines():
        if ends:
            ends = "" if line.strip() == ends else ends
            continue
        if line.strip() and not line.startswith("#"):
            found.append(line.strip())
            heredoc = re.search(r"<<-?'?(\w+)'?", line)
            ends = heredoc.group(1) if heredoc else ""
    return found


@dataclass(frozen=True)
class PipInstall:
    """The final stage's `RUN pip install`: its arguments, with container paths mapped back."""

    base_image: str  # the final stage's FROM, e.g. rasa/rasa:3.6.21-full
    group: str  # the pyproject dependency group the Dockerfile writes to a requirements file
    arguments: list[str]  # pip install's arguments; files are paths in the repository
    group_file: str  # the argument that stands for the group's requirements file
    workdir: str  # the final stage's working directory (where the application lives)
    copies: dict[str, str]  # the final stage's COPYs of the context: container -> repository path

    def with_group_file(self, path: Path) -> list[str]:
        return [str(path) if a == self.group_file else a for a in self.arguments]


def pip_install(dockerfile_path: Path, root: Path) -> PipInstall:
    """Read the final stage's pip command; COPY'd files become their repository paths and the
    requirements file the Dockerfile generates from pyproject.toml becomes `group_file`."""
    text = dockerfile_path.read_text()
    (group,) = set(re.findall(r'\["optional-dependencies"\]\["([\w-]+)"\]', text))
    generated = set(re.findall(r"^RUN python - <<'PY' > (\S+)$", text, re.MULTILINE))
    stage = final_stage(text)
    base_image = stage.splitlines()[0].split()[0]
    workdir = "/app"  # both images: WORKDIR /app (ours) or the Rasa image's own
    copies: dict[str, str] = {}  # container path -> repository path
    installs = []
    for instruction in instructions(stage):
        words = shlex.split(instruction)
        if words[0] == "WORKDIR":
            workdir = words[1]
        elif words[0] == "COPY":
            *sources, dest = words[1:]
            from_stage = [s for s in sources if s.startswith("--from=")]
            sources = [s for s in sources if not s.startswith("--")]
            dest = posixpath.normpath(posixpath.join(workdir, dest)) + ("/" * dest.endswith("/"))
            for source in sources:
                target = dest + posixpath.basename(source) if dest.endswith("/") else dest
                if from_stage and source in generated:
                    generated.add(target)
                elif not from_stage:
                    copies[posixpath.normpath(target)] = source
        elif words[:3] == ["RUN", "pip", "install"]:
            installs.append(words[3:])
    assert len(installs) == 1, f"{dockerfile_path.name}: one `RUN pip install` expected"
    arguments = []
    group_file = ""
    for word in installs[0]:
        absolute = posixpath.normpath(posixpath.join(workdir, word))
        if word in generated or absolute in generated:
            group_file = word
        elif absolute in copies and not word.startswith("-"):
            word = str(root / copies[absolute])
        arguments.append(word)
    assert group_file, f"{dockerfile_path.name}: pip does not install the generated group file"
    return PipInstall(base_image, group, arguments, group_file, workdir, copies)
