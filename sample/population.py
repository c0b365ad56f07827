"""The simulated company's world: accounts, contacts, customers and anonymous visitors.

Built from (seed, scale) only, never from the end date, so every day's events and every CRM snapshot
are drawn from the same people. Time enters through phases (day offsets) that the day generators and
the CRM snapshot turn into dates. Everything is vectorised: numpy draws, Polars string building.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from sample import effects, vocab
from sample.profiles import ScaleProfile
from sample.randomness import POPULATION, rng

ACCOUNTS_CREATED_FROM = dt.date(2015, 1, 1)  # accounts came over from the old CRM between 2015 and 2020
DUPLICATE_SHARE = 0.025
PERSONAL_EMAIL_SHARE = 0.08
INVALID_EMAIL_SHARE = 0.015
EMPTY_EMAIL_SHARE = 0.01
MISSING_TITLE_SHARE = 0.06
OPT_OUT_SHARE = 0.06
CUSTOMER_SHARE = 0.44  # of accounts ever customers; ~90% of them are active on any day
LOYAL_SHARE = 0.75


@dataclass(frozen=True)
class Population:
    """Accounts (one row per account index), contacts (one row per CRM contact row, duplicates
    included) and the anonymous visitor pool, plus the seed every later draw is keyed by."""

    seed: int
    profile: ScaleProfile
    accounts: pl.DataFrame
    contacts: pl.DataFrame
    anon_rate: np.ndarray  # daily visit probability per anonymous visitor slot
    anon_topic: np.ndarray
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # arrays derived once per world

    @cached_property
    def customers(self) -> np.ndarray:
        """Account indexes of accounts that are (or were) customers, in a fixed order."""
        return np.flatnonzero(self.accounts["is_customer_type"].to_numpy())

    @cached_property
    def _subscription_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        acc = self.accounts
        return acc["sub_phase"].to_numpy(), acc["sub_length"].to_numpy(), acc["is_customer_type"].to_numpy()

    def active_on(self, account_idx: np.ndarray, day: int) -> np.ndarray:
        """Whether each account's subscription is active on ordinal `day` (vectorised)."""
        phase, length, is_cust = (x[account_idx] for x in self._subscription_arrays)
        return is_cust & (np.mod(day - phase, effects.SUBSCRIPTION_PERIOD_DAYS) < length)


def _grouped_choice(r: np.random.Generator, groups: np.ndarray, sizes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """For each row, a uniform index into the block of its group in a concatenated table."""
    return offsets[groups] + np.floor(r.random(len(groups)) * sizes[groups]).astype(np.int64)


def build_population(seed: int, profile: ScaleProfile) -> Population:
    """The whole world for (seed, scale); deterministic."""
    r = rng(seed, POPULATION)
    accounts = _accounts(r, profile)
    contacts = _contacts(r, profile, accounts)
    n_anon = int(round(profile.contacts * 1.0))
    anon_rate = np.where(r.random(n_anon) < 0.8, 0.004, 0.015) * profile.web_activity
    anon_topic = r.integers(0, len(vocab.TOPICS), n_anon)
    return Population(seed, profile, accounts, contacts, anon_rate, anon_topic)


def _accounts(r: np.random.Generator, profile: ScaleProfile) -> pl.DataFrame:
    n = profile.accounts
    countries = list(vocab.COUNTRIES)
    weights = np.array([vocab.COUNTRIES[c][0] for c in countries])
    country_idx = r.choice(len(countries), n, p=weights / weights.sum())
    city_rows = [(c, *row) for c in countries for row in vocab.CITIES[c]]
    city_sizes = np.array([len(vocab.CITIES[c]) for c in countries])
    city_offsets = np.concatenate([[0], np.cumsum(city_sizes)[:-1]])
    city_idx = _grouped_choice(r, country_idx, city_sizes, city_offsets)
    legal = [(c, f) for c in countries for f in vocab.COUNTRIES[c][3]]
    legal_sizes = np.array([len(vocab.COUNTRIES[c][3]) for c in countries])
    legal_idx = _grouped_choice(r, country_idx, legal_sizes, np.concatenate([[0], np.cumsum(legal_sizes)[:-1]]))

    word_a = r.integers(0, len(vocab.COMPANY_WORDS_A), n)
    word_b = r.integers(0, len(vocab.COMPANY_WORDS_B), n)
    employees = np.clip(np.round(np.exp(r.normal(np.log(120), 1.5, n))), 1, 250_000).astype(np.int64)
    shape = r.random(n)
    tld_draw = r.random(n)
    messy_domain = r.random(n)
    revenue = np.round(employees * r.uniform(60_000, 250_000, n), -3)
    revenue_missing = r.random(n) < 0.12
    created_day = dt.date.toordinal(ACCOUNTS_CREATED_FROM) + r.integers(0, 5 * 365, n)
    created_sec = r.integers(8 * 3600, 19 * 3600, n)

    is_customer = r.random(n) < CUSTOMER_SHARE
    loyal = r.random(n) < LOYAL_SHARE
    sub_phase = r.integers(0, effects.SUBSCRIPTION_PERIOD_DAYS, n)
    churn_length = np.round(r.uniform(0.25, 0.85, n) * effects.SUBSCRIPTION_PERIOD_DAYS).astype(np.int64)
    sub_length = np.where(loyal, effects.SUBSCRIPTION_PERIOD_DAYS, churn_length)
    seats = np.clip(np.round(np.exp(r.normal(np.log(4 + 1.5 * np.log10(employees)), 0.6, n))), 2,
                    profile.max_seats).astype(np.int64)
    high_u = r.random(n) < effects.HIGH_UTILIZATION_SHARE
    u_latent = np.where(high_u, r.uniform(0.8, 1.0, n), r.uniform(0.15, 0.78, n))
    active_users = np.clip(np.round(u_latent * seats), 1, seats).astype(np.int64)
    pricing_rate = np.where(r.random(n) < effects.PRICING_HIGH_SHARE, effects.PRICING_RATE_HIGH,
                            effects.PRICING_RATE_LOW)
    shows_contract_end = r.random(n) < 0.5
    lots_row = int(np.flatnonzero(~is_customer)[0]) if (~is_customer).any() else 0

    frame = pl.DataFrame({
        "a": np.arange(n, dtype=np.int64),
        "country": pl.Series(countries).gather(country_idx),
        "city": pl.Series([row[1] for row in city_rows]).gather(city_idx),
        "state": pl.Series([row[2] for row in city_rows]).gather(city_idx),
        "zip": pl.Series([row[3] for row in city_rows]).gather(city_idx),
        "area_code": pl.Series([row[4] for row in city_rows]).gather(city_idx),
        "word_a": pl.Series(vocab.COMPANY_WORDS_A).gather(word_a),
        "word_b": pl.Series(vocab.COMPANY_WORDS_B).gather(word_b),
        "legal": pl.Series([f for _, f in legal]).gather(legal_idx),
        "tld": pl.Series([vocab.COUNTRIES[c][2] for c in countries]).gather(country_idx),
        "industry": pl.Series(vocab.INDUSTRIES).gather(r.integers(0, len(vocab.INDUSTRIES), n)),
        "employees": employees,
        "shape": shape,
        "tld_draw": tld_draw,
        "messy_domain": messy_domain,
        "annual_revenue": np.where(revenue_missing, np.nan, revenue),
        "created_day": created_day,
        "created_sec": created_sec,
        "is_customer_type": is_customer,
        "loyal": loyal,
        "sub_phase": sub_phase,
        "sub_length": sub_length,
        "seats": np.where(is_customer, seats, 0),
        "active_users": np.where(is_customer, active_users, 0),
        "pricing_rate": np.where(is_customer, pricing_rate, 0.0),
        "shows_contract_end": shows_contract_end,
    }).with_columns(pl.col("annual_revenue").fill_nan(None), state=pl.when(pl.col("state") != "").then(pl.col("state")))

    band = (pl.when(pl.col("employees") <= 10).then(pl.lit("1-10"))
            .when(pl.col("employees") <= 50).then(pl.lit("11-50"))
            .when(pl.col("employees") <= 200).then(pl.lit("51-200"))
            .when(pl.col("employees") <= 500).then(pl.lit("201-500"))
            .when(pl.col("employees") <= 1000).then(pl.lit("501-1000"))
            .when(pl.col("employees") <= 5000).then(pl.lit("1001-5000"))
            .when(pl.col("employees") <= 10000).then(pl.lit("5001-10000"))
            .otherwise(pl.lit("10001+")))
    base = (pl.when(pl.col("shape") < 0.5)
            .then(pl.col("word_a").str.to_lowercase() + "-" + pl.col("word_b").str.to_lowercase())
            .otherwise(pl.col("word_a").str.to_lowercase() + pl.col("word_b").str.to_lowercase()))
    tld = (pl.when((pl.col("country") != "US") & (pl.col("tld_draw") < 0.3)).then(pl.lit(".com"))
           .when(pl.col("tld_draw") > 0.92).then(pl.lit(".io"))
           .otherwise(pl.col("tld")))
    frame = frame.with_columns(base=base, tld=tld).with_columns(
        dup=pl.int_range(pl.len()).over(["base", "tld"])
    ).with_columns(
        domain=pl.col("base") + pl.when(pl.col("dup") > 0).then((pl.col("dup") + 1).cast(pl.String)).otherwise(pl.lit(""))
        + pl.col("tld"),
        name=pl.col("word_a") + " " + pl.col("word_b")
        + pl.when(pl.col("dup") > 0).then(" " + (pl.col("dup") + 1).cast(pl.String)).otherwise(pl.lit(""))
        + pl.when(pl.col("legal") != "").then(" " + pl.col("legal")).otherwise(pl.lit("")),
    )
    sales_domain = (pl.when(pl.col("messy_domain") < 0.04).then("https://www." + pl.col("domain"))
                    .when(pl.col("messy_domain") < 0.07).then("www." + pl.col("domain"))
                    .when(pl.col("messy_domain") < 0.09).then(pl.col("domain").str.to_titlecase())
                    .when(pl.col("messy_domain") < 0.10).then("http://" + pl.col("domain") + "/about")
                    .otherwise(pl.col("domain")))
    employee_text = (pl.when(pl.col("a") == lots_row).then(pl.lit("lots"))
                     .when(pl.col("shape") < 0.10).then(pl.lit(None, pl.String))
                     .when(pl.col("shape") > 0.85).then(band)
                     .otherwise(pl.col("employees").cast(pl.String)))
    utilization = pl.when(pl.col("seats") > 0).then(pl.col("active_users") / pl.col("seats")).otherwise(None)
    plan = (pl.when(pl.col("seats") <= 5).then(pl.lit("starter"))
            .when(pl.col("seats") <= 15).then(pl.lit("growth")).otherwise(pl.lit("enterprise")))
    price = pl.when(pl.col("seats") <= 5).then(49).when(pl.col("seats") <= 15).then(39).otherwise(29)
    return frame.with_columns(
        account_id=pl.format("acc_{}", (pl.col("a") + 1).cast(pl.String).str.zfill(6)),
        crm_domain=sales_domain,
        employee_count=employee_text,
        utilization=utilization,
        plan=plan,
        mrr=(pl.col("seats") * price).cast(pl.Float64),
    ).drop("shape", "tld_draw", "messy_domain", "base", "dup")


def _fold(expr: pl.Expr) -> pl.Expr:
    pairs = vocab.ASCII_FOLD
    return expr.str.to_lowercase().str.replace_many([a for a, _ in pairs], [b for _, b in pairs])


def _contacts(r: np.random.Generator, profile: ScaleProfile, accounts: pl.DataFrame) -> pl.DataFrame:
    n_accounts = accounts.height
    is_cust = accounts["is_customer_type"].to_numpy()
    seats = accounts["seats"].to_numpy()
    n_dup = int(round(profile.contacts * DUPLICATE_SHARE))
    n_primary = profile.contacts - n_dup
    minimum = np.where(is_cust, seats + 1, 1)
    weights = np.exp(r.normal(0, 0.9, n_accounts)) * np.power(accounts["employees"].to_numpy(), 0.15)
    spare = max(0, n_primary - int(minimum.sum()))
    counts = minimum + r.multinomial(spare, weights / weights.sum())
    n = int(counts.sum())
    acct = np.repeat(np.arange(n_accounts), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.arange(n) - starts

    countries = list(vocab.COUNTRIES)
    other_country = pl.Series(countries).gather(r.integers(0, len(countries), n))
    langs = list(vocab.FIRST_NAMES)
    people = pl.DataFrame({
        "j": np.arange(n, dtype=np.int64),
        "a": acct,
        "rank": rank,
        "u_country": r.random(n),
        "u_first": r.random(n), "u_last": r.random(n), "u_pattern": r.random(n), "u_domain": r.random(n),
        "u_email": r.random(n), "u_title": r.random(n), "u_title_pick": r.random(n), "u_phone": r.random(n),
        "u_phone_fmt": r.random(n), "u_city": r.random(n), "u_source": r.random(n), "u_stage": r.random(n),
        "u_web": r.random(n),
        "n4": r.integers(0, 10_000, n), "n3": r.integers(100, 1_000, n), "n7": r.integers(1_000_000, 10_000_000, n),
        "personal_pick": r.integers(0, len(vocab.PERSONAL_DOMAINS), n),
        "other_country": other_country,
        "opt_out": r.random(n) < OPT_OUT_SHARE,
        "lead_phase": r.integers(0, effects.LEAD_PERIOD_DAYS, n),
        "update_period": r.integers(30, 400, n),
        "update_phase": r.integers(0, 400, n),
        "created_sec": r.integers(7 * 3600, 20 * 3600, n),
        "topic1": r.integers(0, len(vocab.TOPICS), n),
        "topic2": r.integers(0, len(vocab.TOPICS), n),
        "product_phase": r.integers(0, effects.ACTIVE_USER_CADENCE_DAYS, n),
    }).join(accounts.select("a", pl.col("country").alias("acc_country"), pl.col("city").alias("acc_city"),
                            pl.col("state").alias("acc_state"), pl.col("zip").alias("acc_zip"), "area_code",
                            "domain", "is_customer_type", "active_users"), on="a", how="left", maintain_order="left")

    lang_of = {c: vocab.COUNTRIES[c][1] for c in countries}
    first_sizes = np.array([len(vocab.FIRST_NAMES[l]) for l in langs])
    last_sizes = np.array([len(vocab.LAST_NAMES[l]) for l in langs])
    people = people.with_columns(
        country=pl.when(pl.col("u_country") < 0.92).then(pl.col("acc_country")).otherwise(pl.col("other_country")))
    people = people.with_columns(lang=pl.col("country").replace_strict(lang_of))
    lang_idx = people["lang"].replace_strict({l: i for i, l in enumerate(langs)}).to_numpy()
    first_idx = np.concatenate([[0], np.cumsum(first_sizes)[:-1]])[lang_idx] + np.floor(
        people["u_first"].to_numpy() * first_sizes[lang_idx]).astype(np.int64)
    last_idx = np.concatenate([[0], np.cumsum(last_sizes)[:-1]])[lang_idx] + np.floor(
        people["u_last"].to_numpy() * last_sizes[lang_idx]).astype(np.int64)
    people = people.with_columns(
        first_name=pl.Series([x for l in langs for x in vocab.FIRST_NAMES[l]]).gather(first_idx),
        last_name=pl.Series([x for l in langs for x in vocab.LAST_NAMES[l]]).gather(last_idx),
        is_product_user=pl.col("is_customer_type") & (pl.col("rank") < pl.col("active_users")),
    )

    first, last = _fold(pl.col("first_name")), _fold(pl.col("last_name"))
    local = (pl.when(pl.col("u_pattern") < 0.55).then(first + "." + last)
             .when(pl.col("u_pattern") < 0.75).then(first.str.slice(0, 1) + last)
             .when(pl.col("u_pattern") < 0.83).then(first)
             .when(pl.col("u_pattern") < 0.90).then(first + "_" + last)
             .otherwise(first + last.str.slice(0, 1)))
    personal = pl.col("u_domain") < PERSONAL_EMAIL_SHARE
    domain = pl.when(personal).then(
        pl.lit(pl.Series(vocab.PERSONAL_DOMAINS)).gather(pl.col("personal_pick"))).otherwise(pl.col("domain"))
    people = people.with_columns(local=local, email_domain=domain, personal=personal)
    people = people.with_columns(taken=pl.int_range(pl.len()).over(["local", "email_domain"]))
    people = people.with_columns(local=pl.col("local") + pl.when(pl.col("taken") > 0)
                                 .then((pl.col("taken") + 1).cast(pl.String)).otherwise(pl.lit("")))
    people = people.with_columns(email_person=pl.col("local") + "@" + pl.col("email_domain"))
    title_case = _title_case_email()
    u = pl.col("u_email")
    people = people.with_columns(
        email_valid=u >= INVALID_EMAIL_SHARE + EMPTY_EMAIL_SHARE,
        email=pl.when(u < INVALID_EMAIL_SHARE / 2).then(pl.col("local") + "@")
        .when(u < INVALID_EMAIL_SHARE).then(pl.lit("n/a"))
        .when(u < INVALID_EMAIL_SHARE + EMPTY_EMAIL_SHARE).then(pl.lit(None, pl.String))
        .when(u < 0.045).then(title_case)
        .when(u < 0.055).then(pl.col("email_person").str.to_uppercase())
        .when(u < 0.065).then(" " + pl.col("email_person"))
        .when(u < 0.07).then(pl.col("email_person") + " ")
        .otherwise(pl.col("email_person")),
    )

    people = people.with_columns(job_title=_titles(people), phone=_phones(), **_places(), **_lead_sources())
    web_class = pl.col("u_web")
    rate = (pl.when(~pl.col("email_valid")).then(0.0)
            .when(web_class < 0.35).then(0.0)
            .when(web_class < 0.68).then(0.006)
            .when(web_class < 0.90).then(0.02)
            .otherwise(0.06)) * profile.web_activity
    people = people.with_columns(web_rate=pl.when(pl.col("is_product_user")).then(pl.max_horizontal(rate, 0.006))
                                 .otherwise(rate), is_duplicate=pl.lit(False), person=pl.col("j"))
    people = _add_duplicates(r, people, n_dup)
    order = r.permutation(people.height)
    people = people.with_columns(contact_id=pl.format(
        "con_{}", pl.Series((order + 1).astype(np.int64)).cast(pl.String).str.zfill(7)))
    # The one contact row with an unparseable date: a plain prospect, so no event or effect depends on it.
    bad = people.filter(~pl.col("is_product_user") & ~pl.col("is_duplicate") & ~pl.col("is_customer_type"))
    bad_j = bad["j"][0] if bad.height else -1
    return people.with_columns(bad_created=pl.col("j") == bad_j).select(
        "j", "person", "a", "rank", "contact_id", "first_name", "last_name", "email", "email_person", "email_valid",
        "personal", "job_title", "phone", "city", "state", "zip", "country", "lead_source", "stage_draw", "opt_out",
        "lead_phase", "update_period", "update_phase", "created_sec", "web_rate", "topic1", "topic2",
        "is_product_user", "product_phase", "is_duplicate", "bad_created", "local", "email_domain",
    )


def _title_case_email() -> pl.Expr:
    """`jane.doe@acme.com` -> `Jane.Doe@Acme.com`, the way people type their address into forms."""
    domain = pl.col("email_domain")
    return (pl.col("local").str.to_titlecase() + "@" + domain.str.slice(0, 1).str.to_uppercase()
            + domain.str.slice(1))


def _titles(people: pl.DataFrame) -> pl.Series:
    lists = {"en": vocab.JOB_TITLES_EN, "de": vocab.JOB_TITLES_DE, "fr": vocab.JOB_TITLES_FR, "es": vocab.JOB_TITLES_ES}
    flat = [t for l in lists for t in lists[l]]
    sizes = {l: len(v) for l, v in lists.items()}
    offsets, total = {}, 0
    for l in lists:
        offsets[l], total = total, total + sizes[l]
    local_lang = people["lang"].replace_strict({"de": "de", "fr": "fr", "es": "es"}, default="en").to_numpy()
    use_local = (local_lang != "en") & (people["u_title"].to_numpy() > 0.6)
    lang = np.where(use_local, local_lang, "en")
    size = pl.Series(lang).replace_strict(sizes, return_dtype=pl.Int64).to_numpy()
    offset = pl.Series(lang).replace_strict(offsets, return_dtype=pl.Int64).to_numpy()
    idx = offset + np.floor(people["u_title_pick"].to_numpy() * size).astype(np.int64)
    titles = pl.Series(flat).gather(idx)
    missing = people["u_title"].to_numpy() < MISSING_TITLE_SHARE
    return pl.select(pl.when(pl.Series(missing)).then(None).otherwise(titles)).to_series()


def _phones() -> pl.Expr:
    """Phone numbers in the formats people type for each country; ~25% missing."""
    area, n4, n3, n7 = (pl.col("area_code"), pl.col("n4").cast(pl.String).str.zfill(4),
                        pl.col("n3").cast(pl.String), pl.col("n7").cast(pl.String))
    f = pl.col("u_phone_fmt")
    c = pl.col("country")
    # The contact's own country decides the format; if it differs from the account's, the account's
    # area code still reads as a plausible number.
    north_america = (pl.when(f < 0.3).then(pl.format("+1 ({}) 555-{}", area, n4))
                     .when(f < 0.5).then(pl.format("{}.555.{}", area, n4))
                     .when(f < 0.7).then(pl.format("({}) 555-{}", area, n4))
                     .when(f < 0.85).then(pl.format("{}-555-{}", area, n4))
                     .otherwise(pl.format("+1{}555{}", area, n4)))
    gb = pl.when(f < 0.5).then(pl.format("+44 {} {} {}", area, n3, n4)).otherwise(pl.format("0{} {} {}", area, n3, n4))
    de = (pl.when(f < 0.45).then(pl.format("+49 {} {}", area, n7)).when(f < 0.9).then(pl.format("0{} {}", area, n7))
          .otherwise(pl.format("+49 ({}) {}", area, n7)))
    pairs = pl.format("{} {} {} {}", n7.str.slice(0, 2), n7.str.slice(2, 2), n7.str.slice(4, 2), n4.str.slice(0, 2))
    fr = pl.when(f < 0.5).then(pl.format("+33 {} {}", area, pairs)).otherwise(pl.format("0{} {}", area, pairs))
    es = pl.when(f < 0.5).then(pl.format("+34 {}{} {} {}", area, n4.str.slice(0, 1), n3, n7.str.slice(0, 3))) \
        .otherwise(pl.format("{}{} {} {}", area, n4.str.slice(0, 1), n3, n7.str.slice(0, 3)))
    nl = pl.when(f < 0.5).then(pl.format("+31 {} {} {}", area, n3, n4)).otherwise(pl.format("0{} {} {}", area, n3, n4))
    au = pl.when(f < 0.5).then(pl.format("+61 {} {} {}", area, n4, n7.str.slice(0, 4))) \
        .otherwise(pl.format("(0{}) {} {}", area, n4, n7.str.slice(0, 4)))
    phone = (pl.when(c.is_in(["US", "CA"])).then(north_america).when(c == "GB").then(gb).when(c == "DE").then(de)
             .when(c == "FR").then(fr).when(c == "ES").then(es).when(c == "NL").then(nl).otherwise(au))
    return pl.when(pl.col("u_phone") < 0.25).then(None).otherwise(phone)


def _places() -> dict[str, pl.Expr]:
    """The account's city for most contacts; blank for some, and other-country contacts keep only a country."""
    same = pl.col("country") == pl.col("acc_country")
    keep = same & (pl.col("u_city") >= 0.08)
    return {
        "city": pl.when(keep).then(pl.col("acc_city")).otherwise(None),
        "state": pl.when(keep & (pl.col("acc_state") != "")).then(pl.col("acc_state")).otherwise(None),
        "zip": pl.when(keep & (pl.col("u_city") >= 0.15)).then(pl.col("acc_zip")).otherwise(None),
    }


def _lead_sources() -> dict[str, pl.Expr]:
    """Salesforce and HubSpot style lead sources side by side (two CRMs merged), some empty."""
    u = pl.col("u_source")
    sf, hs = vocab.LEAD_SOURCES_SALESFORCE, vocab.LEAD_SOURCES_HUBSPOT
    sf_pick = pl.lit(pl.Series(sf)).gather((u * 2 * len(sf)).cast(pl.Int64).clip(0, len(sf) - 1))
    hs_pick = pl.lit(pl.Series(hs)).gather(((u - 0.5) / 0.4 * len(hs)).cast(pl.Int64).clip(0, len(hs) - 1))
    return {
        "lead_source": pl.when(u < 0.5).then(sf_pick).when(u < 0.9).then(hs_pick).otherwise(None),
        "stage_draw": pl.col("u_stage"),
    }


def _add_duplicates(r: np.random.Generator, people: pl.DataFrame, n_dup: int) -> pl.DataFrame:
    """Second CRM records of the same person: same name and account, email in another case or with
    spaces, sometimes another title or phone, sometimes opted out on only one of the two."""
    eligible = people.filter(pl.col("email_valid") & ~pl.col("is_product_user"))
    if n_dup == 0 or eligible.height == 0:
        return people
    pick = r.choice(eligible.height, min(n_dup, eligible.height), replace=False)
    dup = eligible[np.sort(pick)]
    m = dup.height
    variant = r.random(m)
    title_case = _title_case_email()
    dup = dup.with_columns(
        email=pl.when(pl.Series(variant) < 0.4).then(" " + title_case)
        .when(pl.Series(variant) < 0.6).then(pl.col("email_person").str.to_uppercase())
        .when(pl.Series(variant) < 0.8).then(pl.col("email_person") + " ")
        .otherwise(pl.col("email_person")),
        job_title=pl.when(pl.Series(r.random(m)) < 0.3).then(None).otherwise(pl.col("job_title")),
        phone=pl.when(pl.Series(r.random(m)) < 0.5).then(None).otherwise(pl.col("phone")),
        opt_out=pl.Series(r.random(m) < 0.15),
        lead_phase=pl.Series(r.integers(0, effects.LEAD_PERIOD_DAYS, m)),
        web_rate=pl.lit(0.0),
        is_duplicate=pl.lit(True),
        person=pl.col("j"),
        j=pl.Series(np.arange(people.height, people.height + m, dtype=np.int64)),
    )
    return pl.concat([people, dup.select(people.columns)])
