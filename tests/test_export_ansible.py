"""`emlsetup export ansible`: the exported README describes the files the export writes, and
every variable the playbook reads from the inventory."""

from __future__ import annotations

import re
from pathlib import Path

from steps.export_ansible import export_ansible


def written_tree(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder)) + ("/" if p.is_dir() else "")
        for p in folder.rglob("*")
        if p.is_file() or not any(p.iterdir())
    }


def test_the_readme_lists_exactly_the_files_written(tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('[admin]\nuser = "tfadmin"\n')
    written = export_ansible(answers, tmp_path / "project")
    project = tmp_path / "project"
    readme = (project / "README.md").read_text()
    table = readme.split("## Files")[1].split("\n## ")[0]
    listed = set(re.findall(r"^\| `([^`]+)` \|", table, re.M))
    assert listed == written_tree(project)
    assert {str(p.relative_to(project)) for p in written} | {"wheelhouse/"} == listed
    # Every project path the README names outside the table exists too (reports/ and the
    # admin's own inventory.ini and secrets.yml are made later).
    named = set(re.findall(r"`((?:group_vars|templates|host_vars)/[^`\s]+)`", readme))
    assert named and all((project / path).exists() for path in named), named
    assert "emlsetup.yml" not in readme


def test_every_inventory_variable_of_the_playbook_is_documented(tmp_path: Path) -> None:
    """Including the play's host group, `emlsetup_hosts`."""
    project = tmp_path / "project"
    export_ansible(None, project)
    play = (project / "playbook.yml").read_text()
    defaults = (project / "group_vars/all/main.yml").read_text()
    readme = (project / "README.md").read_text()
    assert "emlsetup_hosts | default('emlsetup')" in play
    documented = set(re.findall(r"`(emlsetup_[a-z_]+)`", readme))
    settable = set(re.findall(r"^(emlsetup_[a-z_]+):", defaults, re.M)) | {"emlsetup_hosts"}
    missing = settable - documented
    assert not missing, missing
