"""The sample data generator: determinism, the moving window, canonical headers, every kind of mess the
pipeline must survive, and the true effects the readouts must recover."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from sample import effects
from sample.generate import generate, main
from sample.profiles import parse_scale

pytestmark = pytest.mark.xdist_group("sample_generator")  # share the module fixtures in one worker

END = dt.date(2026, 11, 20)
HEADERS = {
    "crm/accounts.csv": "account_id,name,domain,industry,employee_count,annual_revenue,country,city,state,zip,created_at",
    "crm/contacts.csv": "contact_id,account_id,email,first_name,last_name,job_title,phone,city,state,zip,country,"
                        "lead_source,lifecycle_stage,email_opt_out,created_at,updated_at",
    "crm/opportunities.csv": "opportunity_id,account_id,contact_id,type,stage,amount,created_at,closed_at,is_won",
    "crm/subscriptions.csv": "subscription_id,account_id,plan,seats_purchased,seats_active,mrr,started_at,ends_at,status",
    "crm/suppressions.csv": "email,reason,added_at",
}
BOT_PATTERN = r"(?i)(bot|headless|python-requests|curl/)"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    generate(out, scale="tiny", seed=7, end_date=END)
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate(out, scale="small", seed=7, end_date=END)
    return out


@pytest.fixture(scope="module")
def con(small) -> duckdb.DuckDBPyConnection:
    """The small landing folder read into DuckDB: CRM files as text, events as parsed JSON lines."""
    db = duckdb.connect()
    for name in ("accounts", "contacts", "opportunities", "subscriptions", "suppressions"):
        db.execute(f"create table {name} as select * from read_csv(?, all_varchar = true, header = true)",
                   [str(small / "crm" / f"{name}.csv")])
    db.execute("""
        create table lines as
        select line, regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2})\\.jsonl', 1)::date as file_date
        from read_csv(?, columns = {'line': 'varchar'}, delim = '\x01', quote = '', escape = '', header = false,
                      filename = true)""", [str(small / "web" / "events" / "*.jsonl")])
    db.execute("""
        create table events as
        select file_date, line, j->>'type' as type, j->>'event' as event, j->>'messageId' as message_id,
               j->>'anonymousId' as anonymous_id, j->>'userId' as user_id, j->>'timestamp' as ts_text,
               (j->>'timestamp')::timestamp as ts, j->'context'->'page'->>'path' as path,
               j->'context'->'page'->>'url' as url, j->'context'->'page'->>'referrer' as referrer,
               j->'context'->'campaign' as campaign, j->'context'->'campaign'->>'source' as source,
               j->'context'->'campaign'->>'medium' as medium, j->'context'->>'userAgent' as user_agent,
               j->'traits'->>'email' as traits_email, j->'properties'->>'email' as form_email,
               j->'properties'->>'topic' as topic, j->'properties'->>'content_id' as content_id,
               j->'properties'->>'feature' as feature
        from (select file_date, line, line::json as j from lines where json_valid(line))""")
    return db


def _one(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchone()[0]


# --- determinism and the moving window -----------------------------------------------------------------

def test_same_arguments_give_byte_identical_files(tiny, tmp_path):
    generate(tmp_path, scale="tiny", seed=7, end_date=END)
    first, second = _files(tiny), _files(tmp_path)
    assert first.keys() == second.keys()
    assert len([k for k in first if k.startswith("web/events/")]) == 30
    assert all(first[k] == second[k] for k in first)


def test_another_seed_gives_other_data(tiny, tmp_path):
    generate(tmp_path, scale="tiny", seed=8, end_date=END)
    assert _files(tmp_path)["crm/contacts.csv"] != _files(tiny)["crm/contacts.csv"]


def test_next_end_date_keeps_every_earlier_day_file_and_adds_one(tiny, tmp_path):
    before = _files(tiny)
    for path, content in before.items():  # start from the earlier run's folder
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    result = generate(tmp_path, scale="tiny", seed=7, end_date=END + dt.timedelta(days=1))
    after = _files(tmp_path)
    new_day = f"web/events/{END + dt.timedelta(days=1):%Y-%m-%d}.jsonl"
    assert set(after) - set(before) == {new_day}
    for day in range(29):  # the 29 days both windows share
        name = f"web/events/{END - dt.timedelta(days=day):%Y-%m-%d}.jsonl"
        assert after[name] == before[name], name
        assert not result["files"][name]["written"], f"{name} was rewritten although unchanged"
    assert result["files"][new_day]["written"]
    # Yesterday's CRM rows mostly survive: the snapshot changes by the day's changes only.
    old = set(before["crm/opportunities.csv"].decode().splitlines())
    new = set(after["crm/opportunities.csv"].decode().splitlines())
    assert len(old & new) >= 0.9 * len(old)


def test_canonical_headers_are_exact(tiny):
    for name, header in HEADERS.items():
        assert (tiny / name).read_text(encoding="utf-8").splitlines()[0] == header


# --- arguments -----------------------------------------------------------------------------------------

def test_scales():
    assert (parse_scale("tiny").accounts, parse_scale("tiny").contacts, parse_scale("tiny").days) == (60, 400, 30)
    assert (parse_scale("small").accounts, parse_scale("small").contacts, parse_scale("small").days) == (800, 8000, 180)
    bench = parse_scale("bench")
    assert (bench.accounts, bench.contacts, bench.days) == (100_000, 1_000_000, 365)
    assert parse_scale("0.1").accounts == 10_000 and parse_scale("0.1").contacts == 100_000
    assert parse_scale("10").contacts == 10_000_000


@pytest.mark.parametrize("value", ["huge", "-1", "0", "1000"])
def test_bad_scale_names_the_option(value):
    with pytest.raises(ValueError, match="--scale"):
        parse_scale(value)


def test_zero_days_is_refused(tmp_path):
    with pytest.raises(ValueError, match="--days"):
        generate(tmp_path, scale="tiny", days=0, end_date=END)


def test_cli_writes_then_if_empty_leaves_the_folder_alone(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--scale", "tiny", "--days", "2", "--end-date", "2026-01-02"]) == 0
    line = capsys.readouterr().out.strip()
    assert "contacts 400" in line and "2 event files" in line and "\n" not in line
    marker = tmp_path / "crm" / "contacts.csv"
    marker.write_text("edited by hand\n")
    assert main(["--out", str(tmp_path), "--if-empty", "--scale", "tiny"]) == 0
    assert "already holds files" in capsys.readouterr().out
    assert marker.read_text() == "edited by hand\n"


def test_cli_rejects_a_bad_date(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--end-date", "31/02/2024"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


# --- realistic mess in the CRM -------------------------------------------------------------------------

def test_sizes_of_small(con):
    assert _one(con, "select count(*) from accounts") == 800
    assert _one(con, "select count(*) from contacts") == 8000
    assert 150_000 <= _one(con, "select count(*) from lines") <= 250_000
    assert _one(con, "select count(distinct file_date) from lines") == 180


def test_duplicate_contacts_differ_only_in_case_or_spaces(con):
    groups = con.execute("""
        select lower(trim(email)) as person, count(*) as n, count(distinct email) as spellings,
               bool_or(email like ' %' or email like '% ') as spaced, bool_or(email <> lower(email)) as cased
        from contacts where email like '%@%.%' group by 1 having count(*) > 1""").pl()
    assert groups.height >= 100
    assert groups["spaced"].any() and groups["cased"].any()
    assert _one(con, "select count(*) from contacts where email like ' %@%'") > 0


def test_invalid_and_personal_emails_missing_titles_and_opt_outs(con):
    assert _one(con, "select count(*) from contacts where email = 'n/a'") > 0
    assert _one(con, "select count(*) from contacts where email like '%@'") > 0
    assert _one(con, "select count(*) from contacts where email is null") > 0
    assert _one(con, "select count(*) from contacts where job_title is null") > 100
    domains = {r[0] for r in con.execute("select distinct split_part(lower(trim(email)), '@', 2) from contacts").fetchall()}
    assert {"gmail.com", "yahoo.com", "outlook.com", "googlemail.com"} <= domains
    assert _one(con, "select count(*) from contacts where email_opt_out = 'true'") > 100


def test_suppressions_match_some_contacts_after_normalising_and_some_nobody(con):
    matched = _one(con, """select count(*) from suppressions s
                          where lower(trim(s.email)) in (select lower(trim(email)) from contacts)""")
    unknown = _one(con, """select count(*) from suppressions s
                          where lower(trim(s.email)) not in (select lower(trim(email)) from contacts where email is not null)""")
    assert matched > 50 and unknown > 0
    assert _one(con, "select count(*) from suppressions where email <> lower(trim(email))") > 0


def test_titles_lead_sources_phones_and_employee_counts_look_real(con):
    titles = {r[0] for r in con.execute("select distinct job_title from contacts").fetchall()}
    assert {"VP, Marketing", "Sr. Mgr, Demand Gen", "SDR", "Head of Growth", "Co-founder & CTO"} <= titles
    assert {"Geschäftsführer", "Leiter Vertrieb", "Directeur commercial", "Responsable marketing",
            "Gerente de ventas"} & titles
    assert len(titles) >= 150
    sources = {r[0] for r in con.execute("select distinct lead_source from contacts").fetchall()}
    assert {"Web", "Trade Show", "Purchased List", "ORGANIC_SEARCH", "PAID_SOCIAL", None} <= sources
    stages = {r[0] for r in con.execute("select distinct lifecycle_stage from contacts").fetchall()}
    assert {"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "customer"} <= stages
    phones = [r[0] for r in con.execute("select phone from contacts where phone is not null").fetchall()]
    assert any(p.startswith("+1 (") for p in phones) and any(p.count(".") == 2 for p in phones)
    assert any(p.startswith("+49 ") for p in phones) and any(p.startswith("0") for p in phones)
    counts = [r[0] for r in con.execute("select employee_count from accounts").fetchall()]
    assert None in counts and any(c and "-" in c for c in counts) and sum(1 for c in counts if c and c.isdigit()) > 400
    countries = con.execute("select country, count(*) n from accounts group by 1 order by n desc").fetchall()
    assert countries[0][0] == "US" and {c for c, _ in countries} == {"US", "GB", "DE", "FR", "ES", "CA", "NL", "AU"}


def test_one_unparseable_date_one_non_numeric_count_one_non_numeric_amount(con):
    assert _one(con, "select count(*) from contacts where try_cast(created_at as timestamp) is null") == 1
    assert _one(con, "select count(*) from accounts where employee_count = 'lots'") == 1
    assert _one(con, "select count(*) from opportunities where try_cast(amount as double) is null") == 1
    assert _one(con, "select count(*) from accounts where try_cast(created_at as timestamp) is null") == 0


def test_opportunities_have_every_type_and_open_ones(con):
    types = dict(con.execute("select type, count(*) from opportunities group by 1").fetchall())
    assert set(types) == {"new_business", "upsell", "renewal"}
    assert _one(con, "select count(*) from opportunities where closed_at is null and is_won = 'false'") > 0
    assert _one(con, "select count(*) from opportunities where stage = 'Closed Won' and is_won <> 'true'") == 0


# --- realistic mess in the web events ------------------------------------------------------------------

def test_every_event_line_is_segment_shaped(con):
    assert _one(con, "select count(*) from events where ts_text not like '____-__-__T__:__:__.___Z'") == 0
    assert _one(con, "select count(*) from events where type not in ('page', 'track', 'identify')") == 0
    assert _one(con, "select count(*) from events where message_id is null or anonymous_id is null") == 0
    assert _one(con, "select count(*) from events where type = 'page' and (url is null or path is null)") == 0
    sample = json.loads(_one(con, "select line from events where campaign is not null limit 1"))
    assert set(sample["context"]) == {"page", "campaign", "userAgent"}
    assert set(sample["context"]["campaign"]) == {"source", "medium", "name", "term", "content"}


def test_a_few_broken_json_lines(con):
    broken = _one(con, "select count(*) from lines where not json_valid(line)")
    total = _one(con, "select count(*) from lines")
    assert 1 <= broken <= max(3, 10 * total / 100_000)


def test_retries_repeat_the_same_payload_and_some_events_arrive_late(con):
    retried = con.execute("""select count(distinct line) as payloads, count(*) as rows from events
                             where message_id in (select message_id from events group by 1 having count(*) > 1)""").fetchone()
    assert retried[1] > 100 and retried[1] == 2 * retried[0]  # twice the same line, never two payloads
    late = con.execute("select distinct file_date - ts::date from events where ts::date < file_date").fetchall()
    assert {1, 2} <= {r[0] for r in late}
    assert _one(con, "select count(*) from events where ts::date > file_date") == 0


def test_bot_traffic(con):
    agents = " ".join(r[0] for r in con.execute("select distinct user_agent from events").fetchall())
    for name in ("Googlebot", "bingbot", "HeadlessChrome", "python-requests"):
        assert name in agents
    bots = _one(con, "select count(*) from events where regexp_matches(user_agent, ?)", [BOT_PATTERN])
    assert 0.01 < bots / _one(con, "select count(*) from events") < 0.1


def test_campaigns_click_ids_referrals_and_organic_search(con):
    pairs = {(s, m) for s, m in con.execute("select distinct source, medium from events where source is not null").fetchall()}
    assert {("google", "cpc"), ("bing", "cpc"), ("linkedin", "paid_social"), ("facebook", "cpc"),
            ("linkedin", "social"), ("newsletter", "email"), ("dv360", "display")} <= pairs
    for click in ("gclid", "msclkid", "fbclid"):
        assert _one(con, f"select count(*) from events where url like '%?{click}=%' and url not like '%utm_%'") > 0
    assert _one(con, "select count(*) from events where url like '%utm_source=%' and campaign is null") > 100
    assert _one(con, """select count(*) from events where url not like '%?%' and referrer like 'https://www.g2.com/%'""") > 0
    for engine in ("https://www.google.com/", "https://www.bing.com/"):
        assert _one(con, "select count(*) from events where referrer = ? and url not like '%?%'", [engine]) > 0


def test_content_downloads_with_every_topic(con):
    topics = {r[0] for r in con.execute("select distinct topic from events where event = 'Content Downloaded'").fetchall()}
    assert topics == set(effects_topics())
    assert _one(con, """select count(*) from events where event = 'Content Downloaded'
                        and content_id = 'linkedin-ppc-guide' and topic = 'paid_media'""") > 0


def effects_topics() -> tuple[str, ...]:
    from sample.vocab import TOPICS
    return TOPICS


def test_forms_and_identifies_tie_browsers_to_contacts_and_earlier_sessions_exist(con):
    form_matches = _one(con, """select count(*) from events e where event = 'Form Submitted'
                                and lower(e.form_email) in (select lower(trim(email)) from contacts)""")
    assert form_matches > 100
    assert _one(con, "select count(*) from events where type = 'identify' and traits_email like '%@%'") > 100
    # Stitching matters: browsers with anonymous page views before their first identify or form fill.
    stitched = _one(con, """
        with known as (select anonymous_id, min(ts) as first_known from events
                       where type = 'identify' or event = 'Form Submitted' group by 1)
        select count(distinct e.anonymous_id) from events e join known k using (anonymous_id)
        where e.ts < k.first_known - interval 1 hour and e.user_id is null""")
    assert stitched > 50


def test_most_web_visitors_never_identify(con):
    share = _one(con, f"""
        with v as (select anonymous_id,
                          bool_or(type = 'identify' or event = 'Form Submitted' or user_id is not null) as known
                   from events where not regexp_matches(user_agent, '{BOT_PATTERN}') group by 1)
        select avg(case when known then 0 else 1 end) from v""")
    assert 0.5 <= share <= 0.75


def test_sessions_are_short_and_apart(con):
    gaps = con.execute(f"""
        with e as (select anonymous_id, ts, ts - lag(ts) over (partition by anonymous_id order by ts) as gap
                   from events where not regexp_matches(user_agent, '{BOT_PATTERN}')
                   and ts::date = file_date)
        select count(*) filter (where gap > interval 20 minute and gap < interval 30 minute),
               count(*) filter (where gap >= interval 30 minute) from e""").fetchone()
    assert gaps[0] == 0 and gaps[1] > 1000


# --- customers and the true effects --------------------------------------------------------------------

def test_customers_subscriptions_and_product_usage(con):
    accounts = _one(con, "select count(*) from accounts")
    active = _one(con, "select count(distinct account_id) from subscriptions where status = 'active'")
    assert 0.35 <= active / accounts <= 0.45
    assert _one(con, """select count(*) from subscriptions where status = 'cancelled'
                        and ends_at::timestamp < ?::timestamp""", [str(END)]) > 0
    assert _one(con, """select count(*) from subscriptions where status = 'active'
                        and ends_at is not null and ends_at::timestamp <= ?::timestamp""", [str(END)]) == 0
    started = con.execute("select min(started_at::timestamp), max(started_at::timestamp) from subscriptions "
                          "where status = 'active'").fetchone()
    assert (started[1] - started[0]).days > 2.5 * 365
    usage = dict(con.execute("select event, count(*) from events where user_id is not null and type = 'track' "
                             "group by 1").fetchall())
    assert {"Feature Used", "Report Created", "Seat Invited"} <= set(usage)
    for path in ("/pricing", "/upgrade"):
        assert _one(con, "select count(*) from events where path = ? and user_id is not null", [path]) > 100


def test_active_product_users_in_30_days_equal_crm_active_seats(con):
    mismatches = _one(con, """
        with users as (
            select c.account_id, count(distinct e.user_id) as users
            from events e join contacts c on e.user_id = c.contact_id
            where e.event in ('Feature Used', 'Report Created', 'Seat Invited')
              and e.ts >= ?::timestamp - interval 29 day
            group by 1)
        select count(*) from subscriptions s left join users u using (account_id)
        where s.status = 'active' and coalesce(u.users, 0) <> s.seats_active::int""", [str(END)])
    assert mismatches == 0


def _upsell_table(con) -> pl.DataFrame:
    return con.execute("""
        select s.account_id, s.seats_active::double / s.seats_purchased::double as utilization,
               count(o.opportunity_id) filter (where o.type = 'upsell' and o.is_won = 'true') as won
        from subscriptions s left join opportunities o using (account_id)
        where s.status = 'active' group by all""").pl()


def test_high_utilization_customers_win_upsells_about_three_times_as_often(con):
    table = _upsell_table(con)
    high = table.filter(pl.col("utilization") >= effects.HIGH_UTILIZATION)
    low = table.filter(pl.col("utilization") < effects.HIGH_UTILIZATION)
    assert high.height >= 50 and low.height >= 150
    ratio = high["won"].mean() / low["won"].mean()
    assert 2.0 <= ratio <= 4.5, ratio


def test_pricing_page_interest_raises_upsells_and_upgrade_visits_do_not(con):
    table = con.execute("""
        with visits as (
            select c.account_id, any_value(s.seats_active::double / s.seats_purchased::double) as utilization,
                   count(*) filter (where e.path = '/pricing') as pricing,
                   count(*) filter (where e.path = '/upgrade') as upgrade
            from events e join contacts c on e.user_id = c.contact_id join subscriptions s using (account_id)
            where e.type = 'page' group by 1),
        wins as (select account_id, count(*) as won from opportunities
                 where type = 'upsell' and is_won = 'true' and closed_at::timestamp >= ?::timestamp - interval 179 day
                 group by 1)
        -- wins per unit of the utilisation effect, so that only the pricing effect is compared
        select v.account_id, v.pricing, v.upgrade,
               coalesce(w.won, 0) / (case when v.utilization >= ? then ? else 1 end) as won
        from subscriptions s join visits v using (account_id) left join wins w using (account_id)
        where s.status = 'active'""",
        [str(END), effects.HIGH_UTILIZATION, effects.HIGH_UTILIZATION_HAZARD_RATIO]).pl()
    # A minority of accounts keeps looking at pricing (about 6 visits a month, the others one in 3 months).
    keen = table.filter(pl.col("pricing") >= 12)
    idle = table.filter(pl.col("pricing") < 12)
    assert keen.height >= 50 and idle.height >= 150
    assert keen["won"].mean() > 1.5 * idle["won"].mean()
    upgrade_hi = table.filter(pl.col("upgrade") >= pl.col("upgrade").median())["won"].mean()
    upgrade_lo = table.filter(pl.col("upgrade") < pl.col("upgrade").median())["won"].mean()
    assert 0.6 < upgrade_hi / upgrade_lo < 1.5


def test_upsell_history_reaches_a_year_before_the_first_event(con):
    first_event = _one(con, "select min(file_date) from lines")
    earliest = _one(con, "select min(closed_at::timestamp) from opportunities where type = 'upsell'")
    assert earliest.date() <= first_event - dt.timedelta(days=330)


def test_hazard_function_matches_the_documented_effects():
    u = np.array([0.5, 0.8, 0.5, 0.9])
    visits = np.array([0, 0, 2, 5])
    expected = effects.UPSELL_BASE_MONTHLY_HAZARD * np.array([1, 3, 2, 6])
    assert np.allclose(effects.monthly_upsell_hazard(u, visits), expected)
    assert effects.TENURE_HAZARD_RATIO == 1.0 and effects.COMPANY_SIZE_HAZARD_RATIO == 1.0
    assert np.isclose(1 - (1 - effects.daily_rate(0.09)) ** 30, 0.09)


def test_gated_forms_sit_on_guides_or_the_demo_page(con):
    paths = {r[0] for r in con.execute("select distinct path from events where event = 'Form Submitted'").fetchall()}
    assert "/demo" in paths and all(p == "/demo" or p.startswith("/guides/") for p in paths)
