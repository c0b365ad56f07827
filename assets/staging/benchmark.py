"""Time the staging models on synthetic raw tables made with DuckDB `range()` (not a test; run by hand).

    .venv/bin/python -m assets.staging.benchmark --events 2000000 --contacts 200000 [--threads 2]

Prints the seconds each model takes. The data is shaped like the real feed: ~10% duplicate contacts,
~1% re-delivered messages, ~3% bots, UTM / click-id / referrer landings, identify and form events.
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb

from assets.staging.models import STAGING_MODELS, build_model
from assets.staging.web_rules import load_web_rules

RAW_CONTACTS = """
create or replace table raw.contacts as
select
    'c' || i as contact_id,
    'acc' || (i % 20000) as account_id,
    case when i % 50 = 0 then 'broken-email-' || i
         when i % 10 = 1 then upper(' person' || (i - 1) || '@example' || ((i - 1) % 997) || '.com ')
         else 'person' || i || '@example' || (i % 997) || '.com' end as email,
    'First' || i as first_name, 'Last' || i as last_name,
    case when i % 7 = 0 then null else 'Marketing Manager' end as job_title,
    null::varchar as phone, 'City' as city, null::varchar as state, null::varchar as zip, 'US' as country,
    'Web' as lead_source, 'lead' as lifecycle_stage, i % 40 = 0 as email_opt_out,
    timestamp '2024-01-01' + to_seconds(i) as created_at,
    timestamp '2025-01-01' + to_seconds(i * 7 % 9000000) as updated_at,
    'contacts.csv' as _source_file, i + 2 as _line, 'canonical' as _format, null::json as _extra,
    now()::timestamp as _loaded_at
from range($contacts) t(i)
"""

RAW_EVENTS = """
create or replace table raw.web_events as
with base as (
    select
        -- every 100th row re-delivers the previous message
        case when i % 100 = 99 then i - 1 else i end as m,
        i,
        hash(i) as h,
        (i // 8) % $visitors as visitor
    from range($events) t(i)
)
select
    (timestamp '2026-01-01' + to_seconds((visitor * 7919 % 7776000) + (i % 8) * 300 + (h % 3) * 2000))::date as event_date,
    'msg-' || m as message_id,
    case when h % 100 = 0 then 'identify' when h % 200 = 1 then 'track' else 'page' end as type,
    case when h % 200 = 1 then 'Form Submitted' end as event,
    'anon-' || visitor as anonymous_id,
    case when visitor % 50 = 0 then 'c' || (visitor % $contacts) end as user_id,
    timestamp '2026-01-01' + to_seconds((visitor * 7919 % 7776000) + (i % 8) * 300 + (h % 3) * 2000) as ts,
    'https://northwindanalytics.com/page/' || (h % 300)
        || case h % 10 when 0 then '?utm_source=linkedin&utm_medium=paid_social&utm_campaign=c' || (h % 20)
                       when 1 then '?gclid=Cj0' || h
                       when 2 then '?msclkid=' || h
                       else '' end as page_url,
    '/page/' || (h % 300) as page_path,
    case h % 7 when 0 then 'https://www.google.com/' when 1 then 'https://partner' || (h % 50) || '.io/x'
               when 2 then 'https://northwindanalytics.com/blog' else null end as page_referrer,
    'Page' as page_title,
    null::varchar as campaign_source, null::varchar as campaign_medium, null::varchar as campaign_name,
    null::varchar as campaign_term, null::varchar as campaign_content,
    case when visitor % 33 = 0 then 'Mozilla/5.0 (compatible; Googlebot/2.1)'
         else 'Mozilla/5.0 (Windows NT 10.0) Chrome/' || (100 + h % 30) end as user_agent,
    case when h % 100 = 0 then 'person' || (visitor % $contacts) || '@example' || ((visitor % $contacts) % 997) || '.com' end
        as traits_email,
    case when h % 200 = 1
        then json_object('email', 'person' || (visitor % $contacts) || '@example' || ((visitor % $contacts) % 997) || '.com',
                         'topic', 'seo', 'content_id', 'g' || (h % 10))
    end as properties,
    'events.jsonl' as _source_file, i + 1 as _line, 'segment' as _format, null::json as _extra,
    now()::timestamp as _loaded_at
from base
"""

RAW_SMALL = [
    "create or replace table raw.suppressions as select 'person' || i || '@example' || (i % 997) || '.com' as email, "
    "'unsubscribed' as reason, timestamp '2025-06-01' as added_at from range(1000) t(i)",
    "create or replace table raw.accounts as select 'acc' || i as account_id, 'Acct ' || i as name, "
    "'https://www.acct' || i || '.com/' as domain, 'Software' as industry, '51-200' as employee_count, "
    "1e6 as annual_revenue, 'US' as country, null::varchar as city, null::varchar as state, null::varchar as zip, "
    "timestamp '2023-01-01' as created_at, 'accounts.csv' as _source_file, i + 2 as _line from range(20000) t(i)",
    "create or replace table raw.opportunities as select 'o' || i as opportunity_id, 'acc' || (i % 20000) as account_id, "
    "'c' || i as contact_id, 'New Business' as type, 'Closed Won' as stage, 1000.0 as amount, "
    "timestamp '2025-01-01' as created_at, null::timestamp as closed_at, true as is_won, i + 2 as _line from range(30000) t(i)",
    "create or replace table raw.subscriptions as select 's' || i as subscription_id, 'acc' || i as account_id, "
    "'pro' as plan, 10 as seats_purchased, 8 as seats_active, 500.0 as mrr, timestamp '2025-01-01' as started_at, "
    "null::timestamp as ends_at, 'Active' as status, i + 2 as _line from range(8000) t(i)",
]


def main() -> None:
    """Build synthetic raw tables, run every staging model once, print the timings."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--database", type=Path, default=None, help="DuckDB file (default: a temporary one)")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="staging-bench-")
    con = duckdb.connect(str(args.database or Path(folder) / "bench.duckdb"))
    con.execute("set threads = $n", {"n": args.threads})
    con.execute("create schema if not exists raw")
    started = time.perf_counter()
    sizes = {"contacts": args.contacts, "events": args.events, "visitors": max(1, args.events // 12)}
    con.execute(RAW_CONTACTS, {"contacts": sizes["contacts"]})
    con.execute(RAW_EVENTS, sizes)
    for statement in RAW_SMALL:
        con.execute(statement)
    print(f"raw tables generated in {time.perf_counter() - started:.1f}s "
          f"({args.contacts:,} contacts, {args.events:,} events, {args.threads} threads)")

    rules = load_web_rules()
    total = 0.0
    for table in STAGING_MODELS:
        t0 = time.perf_counter()
        build_model(con, table, rules, dt.date(2026, 3, 31))
        seconds = time.perf_counter() - t0
        total += seconds
        (count,) = con.table(f"staging.{table}").aggregate("count(*)").fetchone()
        print(f"  staging.{table:<15} {seconds:6.2f}s  {count:>12,} rows")
    print(f"staging total {total:.1f}s")
    con.close()


if __name__ == "__main__":
    main()
