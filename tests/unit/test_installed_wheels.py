"""The pure parts of tests/images/installed_wheels.py: what an installed distribution's metadata
and files are, and the local index pip resolves the images' pip lines against."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.images.installed_wheels import (
    _compressed_tag,
    _egg_requirements,
    installed_distributions,
    link_distributions,
    metadata_index,
    without_index_options,
)


def site_with_two_distributions(site: Path) -> None:
    """A wheel-installed package (dist-info, RECORD with a console script outside
    site-packages) and a legacy sdist install (egg-info with installed-files.txt)."""
    (site / "alpha").mkdir(parents=True)
    (site / "alpha" / "__init__.py").write_text("A = 1\n")
    info = site / "alpha_pkg-1.2.0+cpu.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Alpha.Pkg\nVersion: 1.2.0+cpu\nRequires-Dist: beta\n"
    )
    (info / "WHEEL").write_text(
        "Wheel-Version: 1.0\nTag: cp311-cp311-manylinux_2_17_x86_64\n"
        "Tag: cp311-cp311-manylinux2014_x86_64\n"
    )
    (info / "RECORD").write_text(
        "alpha/__init__.py,sha256=x,6\n"
        "alpha_pkg-1.2.0+cpu.dist-info/METADATA,,\n"
        "../../../bin/alpha,sha256=y,10\n"
    )
    (site / "beta.py").write_text("B = 2\n")
    egg = site / "beta-0.1-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: beta\nVersion: 0.1\n")
    (egg / "requires.txt").write_text("fire\n\n[cli]\nclick>=8\n\n[:sys_platform == 'win32']\nx\n")
    (egg / "installed-files.txt").write_text("../beta.py\nPKG-INFO\n../../../../bin/beta\n")


def test_distributions_know_their_metadata_tags_and_files_inside_site_packages(
    tmp_path: Path,
) -> None:
    site_with_two_distributions(tmp_path)
    found = installed_distributions(tmp_path)
    assert sorted(found) == ["alpha-pkg", "beta"]
    alpha, beta = found["alpha-pkg"], found["beta"]
    assert (alpha.version, alpha.files) == (
        "1.2.0+cpu",
        ("alpha/__init__.py", "alpha_pkg-1.2.0+cpu.dist-info/METADATA"),
    )
    assert alpha.tags == ("cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64")
    assert beta.files == ("beta.py", "beta-0.1-py3.11.egg-info/PKG-INFO")
    assert 'Requires-Dist: click>=8; extra == "cli"' in beta.metadata
    assert "Requires-Dist: fire\n" in beta.metadata and beta.tags == ("py3-none-any",)


def test_requires_txt_sections_become_markers() -> None:
    assert _egg_requirements("a\n[x:python_version < '3.8']\nb\n") == [
        "Requires-Dist: a",
        "Requires-Dist: b; (python_version < '3.8') and extra == \"x\"",
    ]


def test_the_index_has_one_page_per_project_pointing_at_a_metadata_wheel(tmp_path: Path) -> None:
    site_with_two_distributions(tmp_path / "site")
    url = metadata_index(installed_distributions(tmp_path / "site"), tmp_path / "index")
    assert url == (tmp_path / "index" / "simple").as_uri() + "/"
    page = (tmp_path / "index" / "simple" / "alpha-pkg" / "index.html").read_text()
    name = "Alpha_Pkg-1.2.0+cpu-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert f">{name}</a>" in page
    with zipfile.ZipFile(tmp_path / "index" / "files" / name) as wheel:
        assert sorted(wheel.namelist()) == [
            "Alpha_Pkg-1.2.0+cpu.dist-info/METADATA",
            "Alpha_Pkg-1.2.0+cpu.dist-info/RECORD",
            "Alpha_Pkg-1.2.0+cpu.dist-info/WHEEL",
        ]


def test_linking_brings_only_the_chosen_distributions_files(tmp_path: Path) -> None:
    site_with_two_distributions(tmp_path / "site")
    found = installed_distributions(tmp_path / "site")
    assert link_distributions(["beta"], found, tmp_path / "site", tmp_path / "scratch") == 2
    assert (tmp_path / "scratch" / "beta.py").read_text() == "B = 2\n"
    assert not (tmp_path / "scratch" / "alpha").exists()


def test_index_options_are_dropped_with_their_values() -> None:
    arguments = ["--no-cache-dir", "--extra-index-url", "https://x", "-i", "https://y",
                 "--find-links=/w", "-c", "lock", "-r", "req.txt"]  # fmt: skip
    assert without_index_options(arguments) == ["--no-cache-dir", "-c", "lock", "-r", "req.txt"]


def test_a_wheel_name_carries_every_tag_part() -> None:
    tags = ("py2-none-any", "py3-none-any")
    assert _compressed_tag(tags) == "py2.py3-none-any"
