"""One day of Segment-spec web events, as the bytes of `web/events/YYYY-MM-DD.jsonl`.

A day's file depends only on (seed, date, population): every draw comes from generators keyed by the
date (see `sample/randomness.py`). Sessions are built as one frame, exploded into page views, and
turned into JSON lines with Polars struct columns, so nothing loops over rows in Python.

Who visits on a day:
- known contacts (their browser's cookie lasts `COOKIE_DAYS`; in the `PRE_LEAD_DAYS` before their lead
  date they browse anonymously, on the lead date web-sourced leads submit a form; later sessions
  sometimes identify or fill a gated form);
- product users of active customers (`track` product events with userId), and /pricing and /upgrade
  visits drawn by `sample/customers.py`;
- anonymous visitors who never identify, and bots.
Messiness added to the file: late sessions (timestamps one or two days before the file's date),
retried events (the same line twice), and a few truncated lines.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from sample import effects, vocab
from sample.customers import pricing_visits, upgrade_visits
from sample.population import Population
from sample.randomness import DAY_ANON, DAY_BOTS, DAY_IDS, DAY_MESSY, DAY_PAGES, DAY_PRODUCT, DAY_SESSIONS, mix64, \
    rng, uuid_strings

CONTACT, PRODUCT, PRICING, UPGRADE, ANON, BOT = range(6)
LATE_SHARE = 0.005
DUPLICATE_SHARE = 0.004
BROKEN_PER_EVENT = 3e-5
IDENTIFY_SHARE = 0.12
GATED_FORM_SHARE = 0.05
DOWNLOAD_SHARE = 0.2

# (key, weight, utm source, utm medium, click id parameter, referrers, share of landings on content)
CHANNELS: tuple[tuple[str, float, str | None, str | None, str | None, tuple[str, ...], float], ...] = (
    ("direct", 0.20, None, None, None, ("",), 0.1),
    ("organic_search", 0.22, None, None, None, vocab.SEARCH_REFERRERS, 0.7),
    ("google_cpc", 0.08, "google", "cpc", "gclid", ("https://www.google.com/",), 0.5),
    ("bing_cpc", 0.03, "bing", "cpc", "msclkid", ("https://www.bing.com/",), 0.5),
    ("gclid_only", 0.03, None, None, "gclid", ("https://www.google.com/",), 0.5),
    ("msclkid_only", 0.015, None, None, "msclkid", ("https://www.bing.com/",), 0.5),
    ("fbclid_only", 0.01, None, None, "fbclid", ("https://l.facebook.com/",), 0.5),
    ("linkedin_paid_social", 0.06, "linkedin", "paid_social", None, ("https://www.linkedin.com/",), 0.8),
    ("facebook_cpc", 0.02, "facebook", "cpc", None, ("https://www.facebook.com/",), 0.6),
    ("linkedin_social", 0.03, "linkedin", "social", None, ("https://www.linkedin.com/",), 0.6),
    ("newsletter_email", 0.08, "newsletter", "email", None, ("",), 0.9),
    ("dv360_display", 0.03, "dv360", "display", None, ("",), 0.5),
    ("referral", 0.08, None, None, None, vocab.REFERRAL_HOSTS, 0.2),
)
CAMPAIGNS = ("brand", "nonbrand-segmentation", "linkedin-ppc-guide", "abm-retargeting", "q4-pipeline",
             "webinar-promo", "competitor-conquest", "product-launch")
TERMS = ("b2b segmentation", "audience sync", "customer segmentation software", "linkedin matched audiences",
         "abm platform", None, None)
AD_CONTENTS = ("carousel-a", "video-b", "single-image", None)
URL_ONLY_UTM_SHARE = 0.3
FORMS = ("gated-content", "demo-request")
SESSION_COLUMNS = {"identify": pl.Boolean, "form": pl.Boolean, "user_id_on_identify": pl.Boolean, "topic": pl.Int64,
                   "logged_in": pl.Boolean, "bot_agent": pl.Int64}
EVENT_COLUMNS = ("type", "event", "message_id", "anonymous_id", "user_id", "ts", "url", "path", "referrer", "title",
                 "has_campaign", "c_source", "c_medium", "c_name", "c_term", "c_content", "user_agent",
                 "traits_email", "traits_first", "traits_last", "p_form_id", "p_email", "p_content_id", "p_topic",
                 "p_title", "p_feature", "kind")


def _world(pop: Population) -> dict:
    """Arrays the day generator reads every day, derived from the population once."""
    if "web" in pop.cache:
        return pop.cache["web"]
    c = pop.contacts
    primaries = c.filter(~pl.col("is_duplicate"))
    counts = np.bincount(primaries["a"].to_numpy(), minlength=pop.accounts.height)
    world = {
        "rate": c["web_rate"].to_numpy(),
        "lead_phase": c["lead_phase"].to_numpy(),
        "web_lead": (c["lead_source"].is_in(list(vocab.WEB_LEAD_SOURCES)).fill_null(False)
                     & c["email_valid"] & ~c["is_duplicate"]).to_numpy(),
        "a": c["a"].to_numpy(),
        "product_user": np.flatnonzero(c["is_product_user"].to_numpy()),
        "product_phase": c["product_phase"].to_numpy(),
        "topic1": c["topic1"].to_numpy(), "topic2": c["topic2"].to_numpy(),
        "first_row": np.concatenate([[0], np.cumsum(counts)[:-1]]),
        "contact_id": c["contact_id"], "email": c["email_person"], "first": c["first_name"], "last": c["last_name"],
    }
    pop.cache["web"] = world
    return world


def day_file(pop: Population, day: dt.date) -> tuple[bytes, int]:
    """The JSON-lines content of one day's event file and its number of lines."""
    lines = day_lines(pop, day)
    if lines.is_empty():
        return b"", 0
    return (lines.str.join("\n").item() + "\n").encode("utf-8"), lines.len()


def day_lines(pop: Population, day: dt.date) -> pl.Series:
    """One string per line of the day's file, in file order (messiness included)."""
    d = day.toordinal()
    events = day_events(pop, day)
    encoded = _encode(events)
    return _mess_up(pop.seed, d, encoded)


def day_events(pop: Population, day: dt.date) -> pl.DataFrame:
    """Every event of the day (before JSON encoding), one row per event, in a deterministic order."""
    d = day.toordinal()
    sessions = _sessions(pop, d)
    pages = _pages(pop, d, sessions)
    tracks = _tracks(pop, d, sessions, pages)
    events = pl.concat([pages.select(EVENT_COLUMNS), tracks.select(EVENT_COLUMNS)], how="vertical_relaxed")
    events = events.sort("ts", "kind", "anonymous_id", "type", "event", "path", nulls_last=True, maintain_order=True)
    g = rng(pop.seed, DAY_IDS, d)
    top = np.iinfo(np.uint64).max
    hi = g.integers(0, top, events.height, dtype=np.uint64, endpoint=True)
    lo = g.integers(0, top, events.height, dtype=np.uint64, endpoint=True)
    return events.with_columns(message_id=uuid_strings(hi, lo))


# --- sessions -----------------------------------------------------------------------------------------

def _sessions(pop: Population, d: int) -> pl.DataFrame:
    w = _world(pop)
    parts = [_contact_sessions(pop, w, d), _product_sessions(pop, w, d), _customer_page_sessions(pop, w, d),
             _anon_sessions(pop, d), _bot_sessions(pop, d)]
    sessions = pl.concat(parts, how="diagonal_relaxed")
    for name, dtype in SESSION_COLUMNS.items():  # a quiet day may lack a kind of session altogether
        if name not in sessions.columns:
            sessions = sessions.with_columns(pl.lit(None, dtype).alias(name))
    sessions = sessions.with_columns(sid=pl.int_range(pl.len(), dtype=pl.Int64))
    # Sessions of one browser on one day start in different hours, 3+ hours apart, so they never merge
    # (the session timeout is 30 minutes) and never cross midnight.
    g = rng(pop.seed, DAY_SESSIONS, d, 1)
    n = sessions.height
    sessions = sessions.with_columns(
        rank=pl.col("sid").rank("ordinal").over("browser") - 1,
        h0=(pl.col("browser") % 23).cast(pl.Int64),
        minute_offset=pl.Series(g.integers(0, 40 * 60, n)),
        late=pl.Series(np.where(g.random(n) < LATE_SHARE, g.integers(1, 3, n), 0)),
    ).with_columns(
        start=((pl.col("h0") + 4 * pl.col("rank")) % 23) * 3600 + pl.col("minute_offset"),
        late=pl.when(pl.col("kind").is_in([CONTACT, ANON])).then(pl.col("late")).otherwise(0),
    )
    return sessions


def _browser_ids(seed: int, kind: int, who: np.ndarray, epoch: np.ndarray) -> tuple[np.ndarray, pl.Series]:
    key = mix64(seed, kind, who, epoch)
    return key, uuid_strings(key, mix64(key, 1))


def _contact_sessions(pop: Population, w: dict, d: int) -> pl.DataFrame:
    g = rng(pop.seed, DAY_SESSIONS, d)
    n = len(w["rate"])
    since_lead = np.mod(d - w["lead_phase"], effects.LEAD_PERIOD_DAYS)
    pre_lead = since_lead >= effects.LEAD_PERIOD_DAYS - effects.PRE_LEAD_DAYS
    lead_today = (since_lead == 0) & w["web_lead"]
    visit = (g.random(n) < w["rate"] * np.where(pre_lead, 3.0, 1.0)) | lead_today
    u_identify, u_form, u_channel = g.random(n), g.random(n), g.random(n)
    j = np.flatnonzero(visit)
    epoch = (d - w["lead_phase"][j] + effects.PRE_LEAD_DAYS) // effects.COOKIE_DAYS
    key, anon = _browser_ids(pop.seed, CONTACT, j, epoch)
    known = ~pre_lead[j]
    is_product_user = np.isin(j, w["product_user"])
    active = pop.active_on(w["a"][j], d)
    return pl.DataFrame({
        "kind": np.full(len(j), CONTACT), "j": j, "browser": key, "anonymous_id": anon,
        "identify": (lead_today[j] | (known & (u_identify[j] < IDENTIFY_SHARE))),
        "form": lead_today[j] | (known & (u_form[j] < GATED_FORM_SHARE)),
        "user_id_on_identify": is_product_user | (u_identify[j] < IDENTIFY_SHARE * 0.4),
        "channel": _channel(u_channel[j]),
        "topic": np.where(u_form[j] < 0.7, w["topic1"][j], w["topic2"][j]),
        "no_pricing": active,
    })


def _product_sessions(pop: Population, w: dict, d: int) -> pl.DataFrame:
    users = w["product_user"]
    g = rng(pop.seed, DAY_PRODUCT, d)
    due = np.mod(d + w["product_phase"][users], effects.ACTIVE_USER_CADENCE_DAYS) == 0
    extra = g.random(len(users)) < pop.profile.product_extra_activity
    j = users[(due | extra) & pop.active_on(w["a"][users], d)]
    return _logged_in_sessions(pop, w, d, PRODUCT, j)


def _logged_in_sessions(pop: Population, w: dict, d: int, kind: int, j: np.ndarray) -> pl.DataFrame:
    epoch = (d - w["lead_phase"][j] + effects.PRE_LEAD_DAYS) // effects.COOKIE_DAYS
    key, anon = _browser_ids(pop.seed, CONTACT, j, epoch)
    return pl.DataFrame({"kind": np.full(len(j), kind), "j": j, "browser": key, "anonymous_id": anon,
                         "logged_in": np.ones(len(j), dtype=bool), "channel": np.zeros(len(j), dtype=np.int64),
                         "no_pricing": np.ones(len(j), dtype=bool)})


def _customer_page_sessions(pop: Population, w: dict, d: int) -> pl.DataFrame:
    """/pricing and /upgrade visits: exactly the counts of `sample/customers.py`, one visit a session,
    each by one of the account's product users (picked at random)."""
    frames = []
    for kind, draw in ((PRICING, pricing_visits), (UPGRADE, upgrade_visits)):
        cust, counts = draw(pop, d)
        a = np.repeat(cust, counts)
        g = rng(pop.seed, DAY_PRODUCT, d, kind)
        users = pop.accounts["active_users"].to_numpy()[a]
        j = w["first_row"][a] + np.floor(g.random(len(a)) * users).astype(np.int64)
        frames.append(_logged_in_sessions(pop, w, d, kind, j))
    return pl.concat(frames)


def _anon_sessions(pop: Population, d: int) -> pl.DataFrame:
    g = rng(pop.seed, DAY_ANON, d)
    n = len(pop.anon_rate)
    visit = g.random(n) < pop.anon_rate
    u_channel = g.random(n)
    i = np.flatnonzero(visit)
    shift = (mix64(pop.seed, i, 3) % np.uint64(effects.COOKIE_DAYS)).astype(np.int64)
    key, anon = _browser_ids(pop.seed, ANON, i, (d + shift) // effects.COOKIE_DAYS)
    return pl.DataFrame({"kind": np.full(len(i), ANON), "j": np.full(len(i), -1), "browser": key,
                         "anonymous_id": anon, "channel": _channel(u_channel[i]), "topic": pop.anon_topic[i],
                         "no_pricing": np.zeros(len(i), dtype=bool)})


def _bot_sessions(pop: Population, d: int) -> pl.DataFrame:
    g = rng(pop.seed, DAY_BOTS, d)
    k = int(g.poisson(pop.profile.bot_sessions_per_day))
    key = mix64(pop.seed, BOT, d, np.arange(k))
    return pl.DataFrame({"kind": np.full(k, BOT), "j": np.full(k, -1), "browser": key,
                         "anonymous_id": uuid_strings(key, mix64(key, 2)), "channel": np.zeros(k, dtype=np.int64),
                         "no_pricing": np.zeros(k, dtype=bool),
                         "bot_agent": g.integers(0, len(vocab.BOT_USER_AGENTS), k)})


def _channel(u: np.ndarray) -> np.ndarray:
    weights = np.array([c[1] for c in CHANNELS])
    return np.searchsorted(np.cumsum(weights) / weights.sum(), u, side="right").clip(0, len(CHANNELS) - 1)


# --- pages ------------------------------------------------------------------------------------------

def _catalogue() -> pl.DataFrame:
    """Every marketing page: site pages then content pages grouped by topic."""
    site = pl.DataFrame({"path": [p for p, _, _ in vocab.SITE_PAGES], "title": [t for _, t, _ in vocab.SITE_PAGES],
                         "weight": [w for _, _, w in vocab.SITE_PAGES]})
    # Grouped by topic, guides first: the first page of each topic is the gated guide forms point to.
    content = sorted(vocab.CONTENT, key=lambda c: (vocab.TOPICS.index(c[3]), c[1] != "guides", c[0]))
    pages = pl.DataFrame({"path": [f"/{s}/{cid}" for cid, s, _, _ in content], "title": [t for _, _, t, _ in content],
                          "content_id": [cid for cid, _, _, _ in content], "topic": [t for *_, t in content],
                          "is_guide": [s == "guides" for _, s, _, _ in content]})
    return pl.concat([site.with_columns(content_id=pl.lit(None, pl.String), topic=pl.lit(None, pl.String),
                                        is_guide=pl.lit(False)), pages.with_columns(weight=pl.lit(0.0))],
                     how="diagonal_relaxed").with_columns(page=pl.int_range(pl.len(), dtype=pl.Int64))


CATALOGUE = _catalogue()
_SITE_N = len(vocab.SITE_PAGES)
_PRICING_PAGE = [p for p, _, _ in vocab.SITE_PAGES].index("/pricing")
_topic_sizes = np.array([sum(1 for c in vocab.CONTENT if c[3] == t) for t in vocab.TOPICS])
_topic_offsets = _SITE_N + np.concatenate([[0], np.cumsum(_topic_sizes)[:-1]])
_site_weights = np.array([w for _, _, w in vocab.SITE_PAGES])
_cum_all = np.cumsum(_site_weights) / _site_weights.sum()
_no_pricing = _site_weights.copy()
_no_pricing[_PRICING_PAGE] = 0
_cum_no_pricing = np.cumsum(_no_pricing) / _no_pricing.sum()


def _pages(pop: Population, d: int, sessions: pl.DataFrame) -> pl.DataFrame:
    g = rng(pop.seed, DAY_PAGES, d)
    n = sessions.height
    kind = sessions["kind"].to_numpy()
    n_pages = np.minimum(g.geometric(0.4, n), 8)
    n_pages = np.where(kind == BOT, g.integers(3, 16, n), n_pages)
    n_pages = np.where(np.isin(kind, [PRODUCT]), 1, n_pages)
    n_pages = np.where(np.isin(kind, [PRICING, UPGRADE]), g.integers(1, 3, n), n_pages)
    sid = np.repeat(np.arange(n), n_pages)
    pos = np.arange(len(sid)) - np.repeat(np.cumsum(n_pages) - n_pages, n_pages)
    last = pos == n_pages[sid] - 1
    m = len(sid)
    channel = sessions["channel"].to_numpy()[sid]
    land_content = np.array([c[6] for c in CHANNELS])[channel]
    p_content = np.where(pos == 0, land_content, 0.35)
    is_content = g.random(m) < p_content
    topic = sessions["topic"].fill_null(-1).to_numpy()[sid]
    topic = np.where((topic < 0) | (g.random(m) < 0.4), g.integers(0, len(vocab.TOPICS), m), topic)
    content_page = _topic_offsets[topic] + np.floor(g.random(m) * _topic_sizes[topic]).astype(np.int64)
    u = g.random(m)
    no_pricing = sessions["no_pricing"].to_numpy()[sid]
    site_page = np.where(no_pricing, np.searchsorted(_cum_no_pricing, u, side="right"),
                         np.searchsorted(_cum_all, u, side="right")).clip(0, _SITE_N - 1)
    page = np.where(is_content, content_page, site_page)
    # Form sessions end on the form's page: a gated guide of the visitor's topic, or the demo page.
    form = sessions["form"].fill_null(False).to_numpy()[sid] & last
    demo = g.random(m) < 0.2
    guide = _topic_offsets[topic]  # the first content of each topic is a guide (see vocab.CONTENT)
    page = np.where(form & demo, [p for p, _, _ in vocab.SITE_PAGES].index("/demo"), np.where(form, guide, page))
    gaps = np.where(kind[sid] == BOT, g.integers(1, 5, m), g.integers(5, 181, m))
    first_idx = np.repeat(np.cumsum(n_pages) - n_pages, n_pages)
    csum = np.cumsum(gaps)
    offset = csum - csum[first_idx] if m else csum
    frame = pl.DataFrame({"sid": sid, "pos": pos, "page": page, "offset": offset, "is_last": last})
    frame = frame.join(sessions, on="sid", how="left", maintain_order="left").join(CATALOGUE.select("page", "path", "title", "content_id",
                                                                             "topic", "is_guide"), on="page",
                                                            how="left", suffix="_page", maintain_order="left")
    # Logged-in visits land on their own pages.
    frame = frame.with_columns(
        path=pl.when((pl.col("kind") == PRICING) & pl.col("is_last")).then(pl.lit("/pricing"))
        .when(pl.col("kind") == PRICING).then(pl.lit("/customers"))
        .when((pl.col("kind") == UPGRADE) & pl.col("is_last")).then(pl.lit("/upgrade"))
        .when(pl.col("kind") == UPGRADE).then(pl.lit("/app/billing"))
        .when(pl.col("kind") == PRODUCT).then(pl.lit("/app/") + pl.lit(pl.Series(vocab.PRODUCT_FEATURES)).gather(
            (pl.col("browser") % len(vocab.PRODUCT_FEATURES)).cast(pl.Int64)))
        .otherwise(pl.col("path")),
        title=pl.when(pl.col("kind") == PRICING).then(pl.when(pl.col("is_last")).then(pl.lit("Pricing"))
                                                     .otherwise(pl.lit("Customer stories")))
        .when(pl.col("kind") == UPGRADE).then(pl.when(pl.col("is_last")).then(pl.lit("Upgrade your plan"))
                                              .otherwise(pl.lit("Billing")))
        .when(pl.col("kind") == PRODUCT).then(pl.lit("Northwind app"))
        .otherwise(pl.col("title")),
        content_id=pl.when(pl.col("kind").is_in([CONTACT, ANON, BOT])).then(pl.col("content_id")),
        topic_page=pl.when(pl.col("kind").is_in([CONTACT, ANON, BOT])).then(pl.col("topic_page")),
    )
    return _urls(pop, d, frame)


def _urls(pop: Population, d: int, frame: pl.DataFrame) -> pl.DataFrame:
    """URLs, referrers, campaign context and user agents of page views."""
    g = rng(pop.seed, DAY_PAGES, d, 1)
    m = frame.height
    ch = frame["channel"].to_numpy()
    utm_source = pl.Series([c[2] for c in CHANNELS], dtype=pl.String).gather(ch)
    utm_medium = pl.Series([c[3] for c in CHANNELS], dtype=pl.String).gather(ch)
    click = pl.Series([c[4] for c in CHANNELS], dtype=pl.String).gather(ch)
    ref_lists = [c[5] for c in CHANNELS]
    flat_refs = [r for refs in ref_lists for r in refs]
    ref_sizes = np.array([len(r) for r in ref_lists])
    ref_idx = np.concatenate([[0], np.cumsum(ref_sizes)[:-1]])[ch] + np.floor(g.random(m) * ref_sizes[ch]).astype(int)
    week = (d - 3) // 7  # campaign names change weekly, the same for everyone
    campaign = pl.Series(CAMPAIGNS).gather((mix64(pop.seed, week, ch) % np.uint64(len(CAMPAIGNS))).astype(np.int64)
                                           if m else np.zeros(0, dtype=np.int64))
    is_search = np.isin(ch, [2, 3])
    term = pl.Series(TERMS, dtype=pl.String).gather(g.integers(0, len(TERMS), m))
    ad_content = pl.Series(AD_CONTENTS, dtype=pl.String).gather(g.integers(0, len(AD_CONTENTS), m))
    click_value = uuid_strings(mix64(pop.seed, d, np.arange(m), 9), mix64(pop.seed, d, np.arange(m), 10)) \
        .str.replace_all("-", "")
    url_only = g.random(m) < URL_ONLY_UTM_SHARE
    frame = frame.with_columns(
        utm_source=utm_source, utm_medium=utm_medium, click=click, click_value=click_value,
        c_name=pl.when(utm_source.is_not_null()).then(
            pl.when(pl.Series(ch) == 10).then(pl.lit(f"newsletter-{dt.date.fromordinal(d):%Y-%m}")).otherwise(campaign)),
        c_term=pl.when(pl.Series(is_search)).then(term),
        c_content=pl.when(pl.Series(np.isin(ch, [7, 8]))).then(ad_content),
        landing_referrer=pl.Series(flat_refs).gather(ref_idx),
        url_only=pl.Series(url_only),
    )
    host = pl.when(pl.col("path").str.starts_with("/app/") | (pl.col("path") == "/upgrade")).then(pl.lit(vocab.APP)) \
        .otherwise(pl.lit(vocab.SITE))
    query_parts = pl.concat_str([
        pl.when(pl.col("utm_source").is_not_null()).then(pl.format("utm_source={}&utm_medium={}&utm_campaign={}",
                                                                   "utm_source", "utm_medium", "c_name")),
        pl.when(pl.col("c_term").is_not_null()).then("utm_term=" + pl.col("c_term").str.replace_all(" ", "+")),
        pl.when(pl.col("c_content").is_not_null()).then("utm_content=" + pl.col("c_content")),
        pl.when(pl.col("click").is_not_null()).then(pl.col("click") + "=" + pl.col("click_value")),
    ], separator="&", ignore_nulls=True)
    landing = (pl.col("pos") == 0) & pl.col("kind").is_in([CONTACT, ANON])
    frame = frame.with_columns(
        url=host + pl.col("path") + pl.when(landing & (query_parts != "")).then("?" + query_parts).otherwise(pl.lit("")),
        has_campaign=landing & pl.col("utm_source").is_not_null() & ~pl.col("url_only"),
    )
    frame = frame.with_columns(
        referrer=pl.when(pl.col("pos") > 0).then(pl.col("url").shift(1).over("sid"))
        .when(landing).then(pl.col("landing_referrer")).otherwise(pl.lit("")),
        c_source=pl.when(pl.col("has_campaign")).then(pl.col("utm_source")),
        c_medium=pl.when(pl.col("has_campaign")).then(pl.col("utm_medium")),
        c_name=pl.when(pl.col("has_campaign")).then(pl.col("c_name")),
        c_term=pl.when(pl.col("has_campaign")).then(pl.col("c_term")),
        c_content=pl.when(pl.col("has_campaign")).then(pl.col("c_content")),
        user_agent=pl.when(pl.col("kind") == BOT).then(
            pl.lit(pl.Series(vocab.BOT_USER_AGENTS)).gather(pl.col("bot_agent").fill_null(0)))
        .otherwise(pl.lit(pl.Series(vocab.USER_AGENTS)).gather(
            (pl.col("browser") // 7 % len(vocab.USER_AGENTS)).cast(pl.Int64))),
        ts=_timestamp(d),
        user_id=pl.when(pl.col("logged_in").fill_null(False)).then(
            pl.lit(_world(pop)["contact_id"]).gather(pl.col("j").clip(0))),
        type=pl.lit("page"), event=pl.lit(None, pl.String),
        traits_email=pl.lit(None, pl.String), traits_first=pl.lit(None, pl.String),
        traits_last=pl.lit(None, pl.String), p_form_id=pl.lit(None, pl.String), p_email=pl.lit(None, pl.String),
        p_content_id=pl.lit(None, pl.String), p_topic=pl.lit(None, pl.String), p_title=pl.lit(None, pl.String),
        p_feature=pl.lit(None, pl.String), message_id=pl.lit(None, pl.String),
    )
    return frame


def _timestamp(d: int, extra_seconds: pl.Expr | int = 0) -> pl.Expr:
    midnight = dt.datetime.combine(dt.date.fromordinal(d), dt.time())
    return (pl.lit(midnight) + pl.duration(days=-pl.col("late"), seconds=pl.col("start") + pl.col("offset")
                                           + extra_seconds)).cast(pl.Datetime("ms"))


# --- track and identify events ------------------------------------------------------------------------

def _tracks(pop: Population, d: int, sessions: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
    w = _world(pop)
    g = rng(pop.seed, DAY_PAGES, d, 2)
    base = pages.select("sid", "pos", "is_last", "kind", "j", "anonymous_id", "user_id", "url", "path", "title",
                        "content_id", "topic_page", "is_guide", "user_agent", "start", "offset", "late", "identify",
                        "form", "user_id_on_identify", "browser")
    empty = dict(has_campaign=pl.lit(False), c_source=pl.lit(None, pl.String), c_medium=pl.lit(None, pl.String),
                 c_name=pl.lit(None, pl.String), c_term=pl.lit(None, pl.String), c_content=pl.lit(None, pl.String),
                 referrer=pl.lit(""), message_id=pl.lit(None, pl.String), traits_email=pl.lit(None, pl.String),
                 traits_first=pl.lit(None, pl.String), traits_last=pl.lit(None, pl.String),
                 p_form_id=pl.lit(None, pl.String), p_email=pl.lit(None, pl.String),
                 p_content_id=pl.lit(None, pl.String), p_topic=pl.lit(None, pl.String),
                 p_title=pl.lit(None, pl.String), p_feature=pl.lit(None, pl.String))
    email = pl.lit(w["email"]).gather(pl.col("j").clip(0))
    typed_email = pl.when(pl.col("browser") % 10 == 0).then(
        email.str.slice(0, 1).str.to_uppercase() + email.str.slice(1)).otherwise(email)
    frames = []
    # Content Downloaded: some views of guides by people (not bots, not logged-in visits).
    downloads = base.filter(pl.col("kind").is_in([CONTACT, ANON]) & pl.col("is_guide").fill_null(False)
                            & ~(pl.col("form").fill_null(False) & pl.col("is_last")))
    downloads = downloads.filter(pl.Series(g.random(downloads.height) < DOWNLOAD_SHARE))
    frames.append(downloads.with_columns(**empty).with_columns(
        type=pl.lit("track"), event=pl.lit("Content Downloaded"), ts=_timestamp(d, 8),
        p_content_id=pl.col("content_id"), p_title=pl.col("title"), p_topic=pl.col("topic_page")))
    # Form Submitted on the last page of form sessions: the email ties the browser to the contact.
    forms = base.filter(pl.col("form").fill_null(False) & pl.col("is_last"))
    frames.append(forms.with_columns(**empty).with_columns(
        type=pl.lit("track"), event=pl.lit("Form Submitted"), ts=_timestamp(d, 20),
        p_form_id=pl.when(pl.col("content_id").is_not_null()).then(pl.lit(FORMS[0])).otherwise(pl.lit(FORMS[1])),
        p_email=typed_email, p_content_id=pl.col("content_id"), p_topic=pl.col("topic_page")))
    # identify after the form or on login.
    identifies = base.filter(pl.col("identify").fill_null(False) & pl.col("is_last"))
    frames.append(identifies.with_columns(**empty).with_columns(
        type=pl.lit("identify"), event=pl.lit(None, pl.String), ts=_timestamp(d, 25),
        user_id=pl.when(pl.col("user_id_on_identify")).then(pl.lit(w["contact_id"]).gather(pl.col("j").clip(0))),
        traits_email=email, traits_first=pl.lit(w["first"]).gather(pl.col("j").clip(0)),
        traits_last=pl.lit(w["last"]).gather(pl.col("j").clip(0))))
    # Product usage: 1-2 events after the app page.
    product = base.filter(pl.col("kind") == PRODUCT)
    k = g.integers(1, 3, product.height)
    product = product[np.repeat(np.arange(product.height), k)] if product.height else product
    n = product.height
    event_pick = np.searchsorted(np.array([0.7, 0.92, 1.0]), g.random(n), side="right").clip(0, 2)
    seconds = g.integers(20, 200, n) * (1 + (np.arange(n) - np.repeat(np.cumsum(k) - k, k) if n else 0))
    frames.append(product.with_columns(**empty).with_columns(
        type=pl.lit("track"), event=pl.Series(vocab.PRODUCT_EVENTS).gather(event_pick),
        ts=_timestamp(d, pl.Series(seconds)),
        p_feature=pl.Series(vocab.PRODUCT_FEATURES).gather(g.integers(0, len(vocab.PRODUCT_FEATURES), n))))
    return pl.concat([f.select(EVENT_COLUMNS) for f in frames], how="vertical_relaxed")


# --- JSON ----------------------------------------------------------------------------------------------

def _encode(events: pl.DataFrame) -> pl.DataFrame:
    """(sort key, line) per event: Segment JSON built from struct columns, one shape per event kind."""
    ts_text = pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    page = pl.struct(url="url", path="path", referrer="referrer", title="title")
    campaign = pl.struct(source="c_source", medium="c_medium", name="c_name", term="c_term", content="c_content")
    head = dict(messageId="message_id", anonymousId="anonymous_id", userId="user_id", timestamp=ts_text)
    shapes = {
        "page_campaign": pl.struct(type="type", **head, context=pl.struct(page=page, campaign=campaign,
                                                                          userAgent="user_agent")),
        "page": pl.struct(type="type", **head, context=pl.struct(page=page, userAgent="user_agent")),
        "identify": pl.struct(type="type", **head, context=pl.struct(page=page, userAgent="user_agent"),
                              traits=pl.struct(email="traits_email", firstName="traits_first",
                                               lastName="traits_last")),
        "Form Submitted": pl.struct(type="type", event="event", **head,
                                    context=pl.struct(page=page, userAgent="user_agent"),
                                    properties=pl.struct(form_id="p_form_id", email="p_email",
                                                         content_id="p_content_id", topic="p_topic")),
        "Content Downloaded": pl.struct(type="type", event="event", **head,
                                        context=pl.struct(page=page, userAgent="user_agent"),
                                        properties=pl.struct(content_id="p_content_id", title="p_title",
                                                             topic="p_topic")),
        "product": pl.struct(type="type", event="event", **head, context=pl.struct(page=page, userAgent="user_agent"),
                             properties=pl.struct(feature="p_feature")),
    }
    shape = (pl.when((pl.col("type") == "page") & pl.col("has_campaign")).then(pl.lit("page_campaign"))
             .when(pl.col("type") == "page").then(pl.lit("page"))
             .when(pl.col("type") == "identify").then(pl.lit("identify"))
             .when(pl.col("event").is_in(["Form Submitted", "Content Downloaded"])).then(pl.col("event"))
             .otherwise(pl.lit("product")))
    events = events.with_columns(shape=shape, row=pl.int_range(pl.len(), dtype=pl.Int64))
    parts = [events.filter(pl.col("shape") == name).select("row", "ts", "kind", "type", line=expr.struct.json_encode())
             for name, expr in shapes.items()]
    return pl.concat(parts).sort("row")


def _mess_up(seed: int, d: int, encoded: pl.DataFrame) -> pl.Series:
    """Add retried (duplicated) lines and a few truncated lines; return the lines in file order."""
    g = rng(seed, DAY_MESSY, d)
    n = encoded.height
    if n == 0:
        return pl.Series("line", [], dtype=pl.String)
    lines = encoded.with_columns(order=pl.col("ts"))
    # Retries: the same payload again, a little later in the file.
    dup = lines.filter(pl.Series(g.random(n) < DUPLICATE_SHARE))
    dup = dup.with_columns(order=pl.col("ts") + pl.duration(seconds=pl.Series(g.integers(1, 900, dup.height))))
    # Truncated writes (the complete line is sent again by the retry): never on logged-in visits or
    # product events, whose counts carry the true effects.
    k = int(g.poisson(n * BROKEN_PER_EVENT))
    candidates = lines.filter(pl.col("kind").is_in([CONTACT, ANON, BOT]))
    k = min(k, candidates.height)
    broken = candidates[np.sort(g.choice(candidates.height, k, replace=False))] if k else candidates.head(0)
    cut = g.uniform(0.3, 0.8, broken.height)
    broken = broken.with_columns(
        line=pl.col("line").str.slice(0, (pl.col("line").str.len_chars() * pl.Series(cut)).cast(pl.Int64)),
        order=pl.col("ts") - pl.duration(milliseconds=1))
    return pl.concat([lines, dup, broken]).sort("order", "row", maintain_order=True)["line"]
