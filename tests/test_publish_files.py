"""Filesystem publishing: layout, manifest, idempotency, adds/removes, atomicity, security."""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.exports.destinations import MEMBER_COLUMNS, GoogleCustomerMatch, LinkedInCompanies
from assets.exports.publish_files import FilesystemPublisher, check_no_clear_text
from assets.exports.publishing import PublishContext

GOOGLE = GoogleCustomerMatch(min_size=2)
DAY = date(2026, 11, 24)


def members(ids) -> pl.DataFrame:
    """Members with a distinct email per id (so each id is one Customer Match row)."""
    rows = [{c: None for c in MEMBER_COLUMNS} | {"contact_id": f"c{i}", "email": f"person{i}@example.com",
                                                "country": "US", "zip": "94105"} for i in ids]
    return pl.DataFrame(rows, schema={c: pl.String for c in MEMBER_COLUMNS})


def email_hash(i: int) -> str:
    return hashlib.sha256(f"person{i}@example.com".encode()).hexdigest()


def context(run_id="run-1", day=DAY, **kw) -> PublishContext:
    return PublishContext(run_id=run_id, data_date=day, holdout_size=kw.pop("holdout_size", 7),
                          check_results=kw.pop("check_results", {"contacts_valid": "passed"}))


def publish(export_dir: Path, ids, run_id="run-1", day=DAY, on_step=None, destination=GOOGLE):
    rows = destination.render(members(ids))
    return FilesystemPublisher(export_dir, on_step=on_step).publish("upsell", destination, rows, context(run_id, day))


def emails_in(path: Path) -> set[str]:
    return set(pl.read_csv(path, infer_schema=False)["Email"].to_list())


def latest(export_dir: Path) -> Path:
    return export_dir / "upsell" / "google_ads" / "latest"


def assert_complete(publish_dir: Path) -> None:
    """Every file the manifest names exists and matches its checksum."""
    manifest = json.loads((publish_dir / "manifest.json").read_text())
    for name, info in manifest["files"].items():
        assert hashlib.sha256((publish_dir / name).read_bytes()).hexdigest() == info["sha256"], name


def test_layout_manifest_and_checksums(tmp_path):
    result = publish(tmp_path, range(5))
    assert result.status == "published" and result.rows == 5 and result.adds == 5 and result.removes == 0
    assert re.fullmatch(r"2026-11-24-01-[0-9a-f]{8}", result.publish_id)
    folder = tmp_path / "upsell" / "google_ads" / result.publish_id
    assert result.path == folder
    assert sorted(p.name for p in folder.iterdir()) == ["adds.csv", "audience.csv", "manifest.json", "removes.csv"]
    assert os.readlink(latest(tmp_path)) == result.publish_id  # relative link
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["audience"] == "upsell" and manifest["destination"] == "google_ads"
    assert manifest["counts"] == {"audience": 5, "adds": 5, "removes": 0, "holdout": 7}
    assert manifest["holdout_size"] == 7 and manifest["run_id"] == "run-1" and manifest["data_date"] == "2026-11-24"
    assert manifest["check_results"] == {"contacts_valid": "passed"} and manifest["schema_version"] == 1
    assert_complete(folder)
    for name in ("audience.csv", "adds.csv", "removes.csv", "manifest.json"):
        assert result.sha256[name] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert result.publish_id.endswith(result.sha256["audience.csv"][:8])


def test_csv_header_line_ends_order_and_no_clear_text(tmp_path):
    result = publish(tmp_path, [3, 1, 2])
    text = (result.path / "audience.csv").read_bytes().decode("utf-8")
    assert text.split("\n")[0] == "Email,Phone,First Name,Last Name,Country,Zip"
    assert "\r" not in text and text.endswith("\n")
    assert check_no_clear_text(pl.read_csv(result.path / "audience.csv", infer_schema=False)) == []
    # Same rows in another order publish byte-identical files with the same id.
    again = publish(tmp_path / "other", [2, 3, 1])
    assert (again.path / "audience.csv").read_bytes() == text.encode() and again.publish_id == result.publish_id


def test_same_rows_twice_is_unchanged_and_adds_no_folder(tmp_path):
    first = publish(tmp_path, range(4))
    second = publish(tmp_path, reversed(range(4)), run_id="run-2")
    assert second.status == "unchanged" and second.publish_id == first.publish_id
    assert second.sha256 == first.sha256
    folder = tmp_path / "upsell" / "google_ads"
    assert sorted(p.name for p in folder.iterdir()) == sorted([first.publish_id, "latest"])
    assert json.loads((first.path / "manifest.json").read_text())["run_id"] == "run-1"


def test_adds_and_removes_across_three_publishes(tmp_path):
    p1 = publish(tmp_path, [1, 2, 3, 4, 5])
    p2 = publish(tmp_path, [3, 4, 5, 6, 7], run_id="run-2")
    p3 = publish(tmp_path, [1, 6, 7], run_id="run-3", day=date(2026, 11, 25))
    assert (p2.adds, p2.removes) == (2, 2) and (p3.adds, p3.removes) == (1, 3)
    assert emails_in(p2.path / "adds.csv") == {email_hash(6), email_hash(7)}
    assert emails_in(p2.path / "removes.csv") == {email_hash(1), email_hash(2)}
    assert emails_in(p3.path / "adds.csv") == {email_hash(1)}
    assert emails_in(p3.path / "removes.csv") == {email_hash(3), email_hash(4), email_hash(5)}
    # removes only ever name rows of the publish they follow
    assert emails_in(p3.path / "removes.csv") <= emails_in(p2.path / "audience.csv")
    assert [p1.publish_id[:13], p2.publish_id[:13], p3.publish_id[:13]] == ["2026-11-24-01", "2026-11-24-02", "2026-11-25-01"]
    manifest = json.loads((p3.path / "manifest.json").read_text())
    assert manifest["previous_publish_id"] == p2.publish_id
    assert os.readlink(latest(tmp_path)) == p3.publish_id


def test_below_minimum_is_skipped_without_files(tmp_path):
    result = publish(tmp_path, [1], destination=GoogleCustomerMatch(min_size=100))
    assert result.status == "skipped" and result.rows == 1 and result.publish_id is None
    assert "below the google_ads minimum of 100" in result.reason
    assert not (tmp_path / "upsell").exists()


def test_files_0600_and_folders_0700_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        result = publish(tmp_path / "exports", range(3))
    finally:
        os.umask(old)
    for folder in (tmp_path / "exports", tmp_path / "exports" / "upsell", result.path.parent, result.path):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in result.path.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_spreadsheet_formulas_are_neutralised(tmp_path):
    companies = LinkedInCompanies(min_size=1)
    names = ["=HYPERLINK(\"http://x\")", "+1 Corp", "-2 Ltd", "@SUM(A1)", "\tTabbed", "\rReturn", "Plain Co"]
    # Straight to the publisher: the renderer would trim the leading tab and CR away.
    frame = pl.DataFrame({c: [None] * len(names) for c in companies.columns}, schema={c: pl.String for c in companies.columns})
    frame = frame.with_columns(pl.Series("companyname", names), pl.Series("industry", ["-", "@x", "ok", None, "=1", "a", "b"]))
    result = FilesystemPublisher(tmp_path).publish("upsell", companies, frame, context())
    written = pl.read_csv(result.path / "audience.csv", infer_schema=False)
    assert sorted(written["companyname"].to_list()) == sorted(["'" + n for n in names[:-1]] + ["Plain Co"])
    assert sorted(written["industry"].drop_nulls().to_list()) == sorted(["'-", "'@x", "ok", "'=1", "a", "b"])
    assert (result.path / "adds.csv").read_bytes() == (result.path / "audience.csv").read_bytes()


def test_formulas_from_crm_values_are_neutralised_through_the_renderer(tmp_path):
    rows = [{c: None for c in MEMBER_COLUMNS} | {"account_id": f"a{i}", "account_name": n}
            for i, n in enumerate(["=cmd|' /C calc'!A0", "Acme"])]
    companies = LinkedInCompanies(min_size=1)
    frame = companies.render(pl.DataFrame(rows, schema={c: pl.String for c in MEMBER_COLUMNS}))
    result = FilesystemPublisher(tmp_path).publish("upsell", companies, frame, context())
    text = (result.path / "audience.csv").read_text(encoding="utf-8")
    assert "\n'=cmd|' /C calc'!A0," in text and "\n=" not in text


@pytest.mark.parametrize("step", ["files_written", "folder_renamed"])
def test_crash_between_steps_keeps_previous_latest_complete(tmp_path, step):
    first = publish(tmp_path, range(3))

    def crash(name):
        if name == step:
            raise RuntimeError(f"simulated crash after {name}")

    with pytest.raises(RuntimeError, match="simulated crash"):
        publish(tmp_path, range(5), run_id="run-2", on_step=crash)
    assert os.readlink(latest(tmp_path)) == first.publish_id
    assert_complete(latest(tmp_path).resolve())
    assert emails_in(latest(tmp_path) / "audience.csv") == {email_hash(i) for i in range(3)}

    retry = publish(tmp_path, range(5), run_id="run-3")
    assert retry.status == "published" and os.readlink(latest(tmp_path)) == retry.publish_id
    assert (retry.adds, retry.removes) == (2, 0)
    assert_complete(retry.path)
    leftovers = [p.name for p in (tmp_path / "upsell" / "google_ads").iterdir() if p.name.startswith((".tmp-", "latest.tmp-"))]
    assert leftovers == []
    if step == "folder_renamed":  # the complete folder that missed the swap is re-used, not duplicated
        assert "interrupted" in retry.reason and retry.publish_id.startswith("2026-11-24-02-")
        assert len([p for p in retry.path.parent.iterdir() if p.name.startswith("2026-")]) == 2


def test_half_written_temp_folder_and_stale_link_are_cleaned(tmp_path):
    first = publish(tmp_path, range(3))
    folder = tmp_path / "upsell" / "google_ads"
    stale = folder / ".tmp-2026-11-24-02-deadbeef-999"
    stale.mkdir()
    (stale / "audience.csv").write_text("Email,Pho")  # torn write
    os.symlink("nowhere", folder / "latest.tmp-999")
    assert_complete(latest(tmp_path).resolve())  # a reader still sees the old publish whole

    second = publish(tmp_path, range(4), run_id="run-2")
    assert second.status == "published"
    assert sorted(p.name for p in folder.iterdir()) == sorted([first.publish_id, second.publish_id, "latest"])


def test_bad_inputs_are_refused(tmp_path):
    rows = GOOGLE.render(members(range(3)))
    publisher = FilesystemPublisher(tmp_path)
    assert len(rows) == 3
    with pytest.raises(ValueError, match="must be lowercase"):
        publisher.publish("../escape", GOOGLE, rows, context())
    with pytest.raises(ValueError, match="destination template"):
        publisher.publish("upsell", GOOGLE, rows.select(reversed(rows.columns)), context())
    clear = rows.with_columns(pl.lit("jane@acme.com").alias("Email"))
    with pytest.raises(ValueError, match="clear-text"):
        publisher.publish("upsell", GOOGLE, clear, context())
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        PublishContext(run_id="r", data_date="24/11/2026")
    assert not (tmp_path / "upsell").exists()


def test_below_the_minimum_a_list_is_published_only_to_withdraw_people(tmp_path):
    """Consent: someone who opts out must leave `latest` even when the list shrank below the platform
    minimum; a list that is merely small (nobody left) is skipped as before."""
    small = GoogleCustomerMatch(min_size=6)
    first = publish(tmp_path, range(3), destination=small)
    assert first.status == "skipped" and first.below_minimum and not latest(tmp_path).exists()
    published = publish(tmp_path, range(7), destination=small)
    assert published.status == "published" and not published.below_minimum
    shrunk = publish(tmp_path, [0, 1, 2, 4], run_id="run-2", destination=small)  # 3, 5 and 6 opted out
    assert shrunk.status == "published" and shrunk.below_minimum and shrunk.removes == 3
    assert "4 rows, below the google_ads minimum of 6; published anyway to withdraw 3 people" in shrunk.reason
    assert emails_in(latest(tmp_path) / "audience.csv") == {email_hash(i) for i in (0, 1, 2, 4)}
    assert emails_in(latest(tmp_path) / "removes.csv") == {email_hash(i) for i in (3, 5, 6)}
    again = publish(tmp_path, [0, 1, 2, 4], run_id="run-3", destination=small)
    assert again.status == "unchanged" and again.below_minimum
    grown = publish(tmp_path, [0, 1, 2, 4, 7], run_id="run-4", destination=small)  # an add, nobody left
    assert grown.status == "skipped" and grown.below_minimum
    assert os.readlink(latest(tmp_path)) == shrunk.publish_id


def test_an_audience_below_its_own_min_size_withdraws_people_too(tmp_path):
    rows = GOOGLE.render(members(range(4)))
    publisher = FilesystemPublisher(tmp_path)
    assert publisher.publish("upsell", GOOGLE, rows, context()).status == "published"
    small = PublishContext(run_id="run-2", data_date=DAY, below_minimum="3 treatment members, below the audience min_size of 10")
    assert publisher.publish("upsell", GOOGLE, GOOGLE.render(members(range(4))), small).status == "unchanged"
    result = publisher.publish("upsell", GOOGLE, GOOGLE.render(members(range(3))), small)
    assert result.status == "published" and result.below_minimum and result.removes == 1
    assert result.reason.startswith("3 treatment members, below the audience min_size of 10; published anyway")


def _set_difference(left: pl.DataFrame, right: pl.DataFrame) -> list[tuple]:
    """The reference: rows of `left` not in `right`, as Python tuples (None equals None), sorted."""
    other = set(right.rows())
    return sorted((row for row in left.rows() if row not in other), key=lambda r: [(v is None, v or "") for v in r])


@pytest.mark.parametrize("colliding", [False, True])
def test_adds_and_removes_compare_whole_rows_with_nulls_equal_even_when_row_hashes_collide(monkeypatch, colliding):
    """Rows meet on a row hash and are then compared cell by cell: with every hash equal (forced), the
    diff is still exactly the set difference both ways; a row differing in one cell, or only in where
    its NULL is, is a remove plus an add."""
    import random

    from assets.exports.publish_files import adds_and_removes

    rnd = random.Random(7)
    cells = ["a", "b", None, "=x"]
    rows = {tuple(rnd.choice(cells) for _ in range(3)) for _ in range(60)}
    base = sorted(rows, key=str)
    old = pl.DataFrame(base[:40], schema={"A": pl.String, "B": pl.String, "C": pl.String}, orient="row")
    new = pl.DataFrame(base[20:], schema=old.schema, orient="row")
    if colliding:
        monkeypatch.setattr(pl.DataFrame, "hash_rows", lambda self, *a, **k: pl.Series([0] * self.height, dtype=pl.UInt64))
    adds, removes = adds_and_removes(new, old)
    assert adds.rows() == _set_difference(new, old) and removes.rows() == _set_difference(old, new)
    assert adds.height == len(base) - 40 and removes.height == 20
    assert [f.is_empty() for f in adds_and_removes(new, new)] == [True, True]
    for left, right in ((new, old.clear()), (new.clear(), old)):
        adds, removes = adds_and_removes(left, right)
        assert adds.rows() == _set_difference(left, right) and removes.rows() == _set_difference(right, left)
