"""Property: over random contacts (opt-outs, suppressions written with other case, spaces and gmail
variants, invalid emails, phones in several notations), no opted-out or suppressed person appears in any
file of any destination; holdout members are never exported; lead-source files hold no customers and
upsell files only customers."""
from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import duckdb
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.audiences.definitions import AudienceDefinition
from assets.audiences.eligibility import audience_eligibility, email_match_key
from assets.audiences.holdout import write_members
from assets.audiences.publication import publish_audience
from assets.exports.destinations import build_destinations
from assets.exports.normalize import country_iso2, google_email, meta_phone, normalize_email, phone_e164
from assets.exports.publish_files import FilesystemPublisher
from test_audiences_fixtures import DAY, contact, load_tables, segment

DESTINATIONS = build_destinations(
    {"destinations": {
        "google_ads": {"format": "google_customer_match_csv", "min_size": 1},
        "meta": {"format": "meta_custom_audience_csv", "min_size": 1},
        "linkedin_plain": {"format": "linkedin_contact_list_csv", "min_size": 1, "email_hashing": "plain"},
        "linkedin_companies": {"format": "linkedin_company_list_csv", "min_size": 1},
    }},
    "test destinations",
)
ALL = tuple(DESTINATIONS)
AUDIENCES = [
    AudienceDefinition("upsell", "customers", "upsell", "true", ALL, holdout_share=0.2),
    AudienceDefinition("leads", "prospects in marketing", "lead_source", "persona_function == 'marketing'", ALL,
                       holdout_share=0.2),
]
# The publisher fsyncs every file; on tmpfs that costs nothing, which keeps the examples fast.
FAST_TMP = "/dev/shm" if Path("/dev/shm").is_dir() else None
VALID_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")

LOCAL_PARTS = ["jane.doe", "janedoe", "j.a.n.e.doe", "john", "sam.lee"]
DOMAINS = ["gmail.com", "googlemail.com", "acme.com", "Example.org"]
PHONES = ["+1 415 555 0100", "(415) 555-0100", "+14155550101", "415.555.0101", "0044 20 7946 0958",
          "020 7946 0958", "12", "not a phone"]
COUNTRIES = ["US", "GB", "United States", "gb", None]


@st.composite
def email_text(draw) -> str | None:
    """An address from a small pool (so people collide), in random case, padding and gmail notation."""
    kind = draw(st.sampled_from(["email", "email", "email", "invalid", "none"]))
    if kind == "none":
        return None
    if kind == "invalid":
        return draw(st.sampled_from(["not-an-email", "jane.doe@", "@acme.com", "a b@c"]))
    local, domain = draw(st.sampled_from(LOCAL_PARTS)), draw(st.sampled_from(DOMAINS))
    if draw(st.booleans()):
        local += "+" + draw(st.sampled_from(["news", "x1"]))
    text = f"{local}@{domain}"
    text = draw(st.sampled_from([text, text.upper(), text.title()]))
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "  "]))


@st.composite
def people(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    rows = []
    for i in range(n):
        email = draw(email_text())
        normalized = email.strip().lower() if email else None
        rows.append({
            "email": email,
            "email_valid": bool(normalized and VALID_EMAIL.match(normalized)),
            "phone": draw(st.sampled_from(PHONES + [None, None])),
            "country": draw(st.sampled_from(COUNTRIES)),
            "email_opt_out": draw(st.sampled_from([False, False, False, True, None])),
            "is_customer": draw(st.sampled_from([True, False, None])),
            "persona_function": draw(st.sampled_from(["marketing", "sales"])),
        })
    suppressions = draw(st.lists(email_text().filter(lambda e: e is not None), max_size=4))
    return rows, suppressions


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def forbidden_values(contacts: pl.DataFrame, suppressions: list[str]) -> set[str]:
    """Every form in which an opted-out or suppressed person could appear in a file, clear and hashed."""
    listed = {s.strip().lower() for s in suppressions}
    listed_keys = set(pl.DataFrame({"e": suppressions}, schema={"e": pl.String})
                      .select(email_match_key(pl.col("e")).alias("e"))["e"].drop_nulls())
    keyed = contacts.with_columns(email_match_key(pl.col("email")).alias("_key"))
    blocked = keyed.filter(
        pl.col("email_opt_out").fill_null(True) | pl.col("is_suppressed").fill_null(True)
        | pl.col("_key").is_in(pl.Series(list(listed_keys), dtype=pl.String).implode())
    )
    emails = pl.DataFrame({"e": blocked["email"].to_list() + suppressions + list(listed)}, schema={"e": pl.String})
    email_forms = emails.select(
        normalize_email(pl.col("e")).alias("a"), google_email(pl.col("e")).alias("b"), email_match_key(pl.col("e")).alias("c")
    )
    phones = blocked.with_columns(country_iso2(pl.col("country")).alias("_cc"))
    e164 = phones.select(phone_e164(phones, "phone", "_cc").alias("p")).with_columns(meta_phone(pl.col("p")).alias("m"))
    clear = {v for column in (*email_forms.iter_columns(), *e164.iter_columns()) for v in column.drop_nulls()}
    return clear | {sha(v) for v in clear} | set(blocked["contact_id"])


def file_cells(folder: Path) -> list[tuple[Path, dict]]:
    """Every row of every CSV written under `folder`, with its path."""
    rows = []
    for path in sorted(folder.rglob("*.csv")):
        rows += [(path, row) for row in pl.read_csv(path, infer_schema=False).to_dicts()]
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people())
def test_no_opted_out_or_suppressed_person_reaches_any_file(data):
    rows, suppressions = data
    listed = {s.strip().lower() for s in suppressions}
    contacts = [
        contact(i, email=r["email"], email_valid=r["email_valid"], phone=r["phone"], country=r["country"],
                email_opt_out=r["email_opt_out"],
                # as staging computes it: exact match after trim + lowercase
                is_suppressed=bool(r["email"] and r["email"].strip().lower() in listed))
        for i, r in enumerate(rows)
    ]
    segments = [segment(i, is_customer=r["is_customer"], persona_function=r["persona_function"])
                for i, r in enumerate(rows)]
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as tmp:
        folder = Path(tmp)
        with duckdb.connect() as con:
            load_tables(con, contacts, segments, suppressions=sorted(listed))
            result = audience_eligibility(
                con.table("segments.contact_segments").pl(), con.table("staging.contacts").pl(),
                con.table("staging.suppressions").pl(), AUDIENCES,
            )
            write_members(con, result.members, DAY)
            publisher = FilesystemPublisher(folder / "exports")
            for audience in AUDIENCES:
                publish_audience(con, audience, DESTINATIONS, publisher, run_id="r1", data_date=DAY)
            groups = con.execute('select audience, contact_id, "group" from audiences.members').fetchall()
            staged = con.table("staging.contacts").pl()
        forbidden = forbidden_values(staged, suppressions)
        cells = file_cells(folder / "exports")

    for path, row in cells:
        leaked = {v for v in row.values() if v is not None} & forbidden
        assert not leaked, f"{path}: {leaked}"
    customer = {f"c{i:05d}": r["is_customer"] for i, r in enumerate(rows)}
    treatment = {(a, c) for a, c, g in groups if g == "treatment"}
    for audience in AUDIENCES:
        exported = {row["EXTERN_ID"] for path, row in cells
                    if path.parts[-4:-2] == (audience.name, "meta") and path.name == "audience.csv"}
        # Meta matches on names too, so every treatment member is in its file, and nobody else.
        assert exported == {c for a, c in treatment if a == audience.name}
        if audience.kind == "lead_source":
            assert all(customer[c] is False for c in exported)
        if audience.kind == "upsell":
            assert all(customer[c] is True for c in exported)
