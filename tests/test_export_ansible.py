"""`emlsetup export ansible`: the exported README describes the files the export writes, and
every variable the playbook reads from the inventory."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from steps.ansible.export import export_ansible


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


RHEL = "Red Hat Enterprise Linux Server 7.5 (Maipo)"  # 43 characters


def test_the_summary_table_fits_a_long_distro_name_and_cuts_a_reason_to_one_line() -> None:
    """summary.txt.j2 rendered by ansible-core's own templating, as the playbook does."""
    templar_mod = pytest.importorskip("ansible.template")
    from ansible.parsing.dataloader import DataLoader

    reason = "step 1: prerequisite failed: AFL_AREAS rows (0 rows); fix: " + "x" * 200
    hostvars = {
        "hxe-rhel": {"emlsetup_result": {
            "distro": RHEL, "status": "failed", "steps_done": [], "changed_actions": [],
            "rechecked_actions": [], "failed_step": 1, "reason": reason + "\nmore detail",
        }},
        "hxe-ubuntu": {"emlsetup_result": {
            "distro": "Ubuntu 16.04", "status": "done", "steps_done": [1, 2, 3, 4, 5, 6, 7],
            "changed_actions": ["1/hxe-gc"], "rechecked_actions": ["7/a", "7/b"],
            "failed_step": None, "reason": "all requested steps are done",
        }},
        "hxe-lost": {},
    }  # fmt: skip
    text = resources.files("steps.ansible").joinpath("summary.txt.j2").read_text()
    templar = templar_mod.Templar(
        loader=DataLoader(),
        variables={"ansible_play_hosts_all": list(hostvars), "hostvars": hostvars},
    )
    lines = templar.template(text).splitlines()
    assert len(lines) == 4, lines
    head, lost, rhel, ubuntu = lines
    for name in ("status", "steps done", "changed", "re-checked", "reason"):
        col = head.index(name)
        assert head[col - 2 : col] == "  " and rhel[col - 2 : col] == "  ", (name, rhel)
    assert rhel[head.index("distro") :].startswith(RHEL + "  failed")
    assert ubuntu[head.index("changed") :].split()[:2] == ["1", "2"]
    assert rhel[head.index("reason") :] == reason[:117] + "..."
    assert rhel.count("step 1:") == 1
    assert "the play stopped on this host" in lost
