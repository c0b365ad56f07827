"""Persona classifier: conventions of issue 3, labelled-set accuracy, config validation, frame shape."""
from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.segments.persona import PERSONA_COLUMNS, classify_contacts, classify_titles
from assets.segments.persona_report import (
    EVAL_SETS, accuracy, evaluate, main, onet_coverage, read_labelled_titles, read_onet_titles,
)
from assets.segments.persona_rules import FUNCTIONS, SENIORITIES, load_persona_rules
from workflows.settings import REPO_ROOT

CONFIG = REPO_ROOT / "config" / "personas.yaml"


@pytest.fixture(scope="module")
def rules():
    return load_persona_rules()


def classify_one(title, rules) -> tuple[str, str]:
    row = classify_titles(pl.Series([title], dtype=pl.String), rules).row(0, named=True)
    return row["persona_function"], row["persona_seniority"]


# --- every convention of issue 3, as explicit cases -------------------------------------------------

CONVENTIONS = [
    # chief-X officers and their abbreviations are cxo of their function
    ("CMO", "marketing", "cxo"), ("CTO", "engineering", "cxo"), ("CIO", "it", "cxo"),
    ("CFO", "finance", "cxo"), ("COO", "operations", "cxo"), ("CRO", "sales", "cxo"),
    ("CISO", "it", "cxo"), ("CDO", "data", "cxo"), ("Chief Marketing Officer", "marketing", "cxo"),
    ("Chief People Officer", "hr", "cxo"), ("Chief Revenue Officer", "sales", "cxo"),
    # CEO, President, Managing Director: general management cxo; General Counsel: legal cxo
    ("CEO", "general_management", "cxo"), ("President", "general_management", "cxo"),
    ("Managing Director", "general_management", "cxo"), ("General Counsel", "legal", "cxo"),
    ("President and COO", "operations", "cxo"), ("CEO & CTO", "general_management", "cxo"),
    # founders, owners, partners of a firm: owner, function the one named else general management
    ("Founder", "general_management", "owner"), ("Co-founder", "general_management", "owner"),
    ("Owner", "general_management", "owner"), ("Partner", "general_management", "owner"),
    ("Managing Partner", "general_management", "owner"), ("Founder & CEO", "general_management", "owner"),
    ("Co-founder and CTO", "engineering", "owner"), ("Founder, Head of Marketing", "marketing", "owner"),
    # ... but these partners and owners are roles
    ("HR Business Partner", "hr", "entry"), ("Channel Partner Manager", "sales", "manager"),
    ("Partner Account Manager", "sales", "manager"), ("Product Owner", "product", "entry"),
    ("Founding Engineer", "engineering", "entry"), ("Executive Assistant to the CEO", "operations", "entry"),
    # VP / SVP / EVP / AVP / Vice President
    ("VP Marketing", "marketing", "vp"), ("SVP Sales", "sales", "vp"), ("EVP Operations", "operations", "vp"),
    ("AVP Finance", "finance", "vp"), ("Vice President, Engineering", "engineering", "vp"),
    ("Senior Vice President of Sales", "sales", "vp"),
    # Director and Head of
    ("Director of Sales", "sales", "director"), ("Head of Product", "product", "director"),
    # Manager, Team Lead, Supervisor
    ("Marketing Manager", "marketing", "manager"), ("Team Lead, Customer Support", "customer_success", "manager"),
    ("Customer Service Supervisor", "customer_success", "manager"),
    # "Senior" in front of a manager or director title does not change the level
    ("Senior Marketing Manager", "marketing", "manager"),
    ("Senior Director of Engineering", "engineering", "director"),
    # Senior / Sr. / Lead / Principal / Staff in front of an individual title
    ("Senior Accountant", "finance", "senior"), ("Sr. Software Engineer", "engineering", "senior"),
    ("Lead Designer", "design", "senior"), ("Principal Data Scientist", "data", "senior"),
    ("Staff Engineer", "engineering", "senior"),
    # Intern, Trainee, Apprentice, Working Student, Student
    ("Marketing Intern", "marketing", "intern"), ("Sales Trainee", "sales", "intern"),
    ("Apprentice Accountant", "finance", "intern"), ("Working Student Marketing", "marketing", "intern"),
    ("Student", "other", "intern"),
    # other individual titles are entry
    ("Marketing Specialist", "marketing", "entry"), ("Sales Coordinator", "sales", "entry"),
    ("Customer Success Associate", "customer_success", "entry"), ("Financial Analyst", "finance", "entry"),
    ("Sales Representative", "sales", "entry"), ("Account Executive", "sales", "entry"),
    ("Software Engineer", "engineering", "entry"), ("Web Developer", "engineering", "entry"),
    ("Graphic Designer", "design", "entry"), ("Accountant", "finance", "entry"), ("Recruiter", "hr", "entry"),
    ("Teacher", "other", "entry"),
    # sub-areas
    ("Key Account Manager", "sales", "manager"), ("Business Development Representative", "sales", "entry"),
    ("Support Specialist", "customer_success", "entry"), ("Customer Success Manager", "customer_success", "manager"),
    ("Customer Service Representative", "customer_success", "entry"),
    ("Implementation Consultant", "customer_success", "entry"), ("Creative Director", "design", "director"),
    ("UX Researcher", "design", "entry"), ("DevOps Engineer", "engineering", "entry"),
    ("QA Analyst", "engineering", "entry"), ("Software Architect", "engineering", "entry"),
    ("IT Manager", "it", "manager"), ("Network Administrator", "it", "entry"),
    ("Help Desk Technician", "it", "entry"), ("Security Analyst", "it", "entry"),
    ("Data Scientist", "data", "entry"), ("Analytics Manager", "data", "manager"),
    ("BI Developer", "data", "entry"), ("Data Engineer", "data", "entry"),
    ("Compliance Manager", "legal", "manager"), ("Procurement Specialist", "operations", "entry"),
    ("Supply Chain Manager", "operations", "manager"), ("Logistics Coordinator", "operations", "entry"),
    ("Office Manager", "operations", "manager"),
    # case, punctuation, word order
    ("MARKETING DIRECTOR", "marketing", "director"), ("VP, Marketing", "marketing", "vp"),
    ("Marketing - VP", "marketing", "vp"), ("Dir. of Eng.", "engineering", "director"),
    ("C.E.O.", "general_management", "cxo"), ("S.V.P., Marketing", "marketing", "vp"),
    ("H.R. Manager", "hr", "manager"), ("Sales Lead, EMEA", "sales", "manager"), ("Lead, Sales", "sales", "manager"),
    ("Lead Generation Specialist", "marketing", "entry"),
    # abbreviations
    ("Sr. Mktg Mgr", "marketing", "manager"), ("BDR", "sales", "entry"), ("SDR", "sales", "entry"),
    ("AE", "sales", "entry"), ("CSM", "customer_success", "manager"), ("PMM", "marketing", "manager"),
    ("HRBP", "hr", "entry"), ("Eng. Manager", "engineering", "manager"),
    # German, French, Spanish, with and without accents
    ("Geschäftsführer", "general_management", "cxo"), ("Geschaeftsfuehrer", "general_management", "cxo"),
    ("GESCHÄFTSFÜHRERIN", "general_management", "cxo"), ("Leiter Vertrieb", "sales", "director"),
    ("Vertriebsleiter", "sales", "director"), ("Teamleiter Vertrieb", "sales", "manager"),
    ("Directeur commercial", "sales", "director"), ("Responsable marketing", "marketing", "manager"),
    ("Responsable des ressources humaines", "hr", "manager"), ("Gerente de ventas", "sales", "manager"),
    ("Jefe de Compras", "operations", "manager"), ("Directeur Général", "general_management", "cxo"),
    ("Co-fondateur & CTO", "engineering", "owner"), ("Werkstudent Softwareentwicklung", "engineering", "intern"),
    # several functions in one title
    ("VP Sales & Marketing", "sales", "vp"), ("Marketing & Sales Director", "marketing", "director"),
    ("Product Marketing Manager", "marketing", "manager"), ("Marketing Data Analyst", "data", "entry"),
    ("Data Product Manager", "product", "manager"), ("Manager, Sales Operations", "sales", "manager"),
    # whole words only
    ("Internal Communications Manager", "marketing", "manager"),
    ("International Sales Manager", "sales", "manager"), ("Digital Marketing Specialist", "marketing", "entry"),
]


MISSING_TITLES = [None, "", "   ", "n/a", "N/A", "-", "none", "???", " TBD "]
LABELS = [
    ("VP, Marketing", "Marketing VP"), ("Sales Manager", "Sales Manager"),
    ("Co-founder and CTO", "Engineering Owner"), ("CSM", "Customer Success Manager"),
    ("Teacher", "Other IC"), (None, "Unknown"),
]


@pytest.fixture(scope="module")
def classified(rules) -> dict:
    """Every title used by the parametrised cases, classified in one call (one regex compile)."""
    titles = [c[0] for c in CONVENTIONS] + MISSING_TITLES + [t for t, _ in LABELS]
    out = classify_titles(pl.Series(titles, dtype=pl.String), rules)
    return {row["job_title"]: row for row in out.iter_rows(named=True)}


@pytest.mark.parametrize(("title", "function", "seniority"), CONVENTIONS, ids=[c[0] for c in CONVENTIONS])
def test_issue_conventions(title, function, seniority, classified):
    row = classified[title]
    assert (row["persona_function"], row["persona_seniority"]) == (function, seniority)


@pytest.mark.parametrize("title", MISSING_TITLES)
def test_blank_or_missing_title_is_unknown(title, classified):
    row = classified[title]
    assert (row["persona_function"], row["persona_seniority"], row["persona"]) == ("other", "unknown", "Unknown")


@pytest.mark.parametrize(("title", "persona"), LABELS)
def test_persona_label(title, persona, classified):
    assert classified[title]["persona"] == persona


# --- accuracy on the labelled sets ---------------------------------------------------------------------

@pytest.mark.parametrize(("name", "floor"), [("main (tuned against)", 0.97), ("holdout", 0.95)])
def test_labelled_set_accuracy(name, floor, rules):
    labelled = read_labelled_titles(EVAL_SETS[name])
    assert labelled.height >= (300 if name.startswith("main") else 100)
    assert set(labelled["function"]) <= set(FUNCTIONS)
    assert set(labelled["seniority"]) <= set(SENIORITIES) | {"unknown"}
    acc = accuracy(evaluate(labelled, rules))
    assert acc["function"] >= floor, acc
    assert acc["seniority"] >= floor, acc


# --- vectorised output ---------------------------------------------------------------------------------

def test_classify_titles_keeps_length_order_and_duplicates(rules):
    titles = pl.Series("whatever", ["CFO", None, "Data Scientist", "CFO", "", "Sr. Mktg Mgr", None])
    out = classify_titles(titles, rules)
    assert out.columns == ["job_title", *PERSONA_COLUMNS]
    assert out.schema == {c: pl.String for c in out.columns}
    assert out["job_title"].to_list() == titles.to_list()
    assert out["persona_function"].to_list() == [
        "finance", "other", "data", "finance", "other", "marketing", "other"]
    assert out["persona_seniority"].to_list() == ["cxo", "unknown", "entry", "cxo", "unknown", "manager", "unknown"]


def test_classify_titles_of_a_null_typed_series(rules):
    out = classify_titles(pl.Series([None, None]), rules)
    assert out["persona"].to_list() == ["Unknown", "Unknown"]


def test_classify_contacts_adds_columns_and_keeps_rows(rules):
    contacts = pl.DataFrame({
        "contact_id": ["c3", "c1", "c2", "c4"],
        "title": ["Head of Sales", None, "Head of Sales", "Paralegal"],
        "persona": ["stale", "stale", "stale", "stale"],      # replaced, not duplicated
    })
    out = classify_contacts(contacts, title_col="title", rules=rules)
    assert out.columns == ["contact_id", "title", *PERSONA_COLUMNS]
    assert out["contact_id"].to_list() == ["c3", "c1", "c2", "c4"]
    assert out["title"].to_list() == contacts["title"].to_list()
    assert out["persona"].to_list() == ["Sales Director", "Unknown", "Sales Director", "Legal IC"]


def test_classify_contacts_with_an_all_null_title_column(rules):
    contacts = pl.DataFrame({"contact_id": ["a", "b"], "job_title": [None, None]})
    out = classify_contacts(contacts, rules=rules)
    assert out["persona_seniority"].to_list() == ["unknown", "unknown"]


def test_classify_contacts_names_a_missing_title_column(rules):
    with pytest.raises(ValueError, match=r"no column 'job_title'.*contact_id.*title_col="):
        classify_contacts(pl.DataFrame({"contact_id": ["a"]}), rules=rules)


# --- the taxonomy is data: config edits change behaviour, mistakes are named -----------------------------

@cache
def shipped_config() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def write_config(tmp_path: Path, edit) -> Path:
    """A copy of the shipped config with `edit` applied, in `tmp_path`."""
    data = copy.deepcopy(shipped_config())
    edit(data)
    (tmp_path / "personas.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")
    return tmp_path


def test_a_keyword_added_in_config_changes_the_function(tmp_path):
    assert classify_one("Happiness Manager", load_persona_rules()) == ("other", "manager")
    folder = write_config(tmp_path, lambda d: d["functions"]["hr"]["keywords"].append("happiness"))
    assert classify_one("Happiness Manager", load_persona_rules(folder)) == ("hr", "manager")


def test_seniority_precedence_follows_config_order(tmp_path):
    def intern_first(data):
        levels = data["seniority"]
        levels.insert(0, levels.pop(next(i for i, r in enumerate(levels) if r["level"] == "intern")))
    assert classify_one("Director Trainee Program", load_persona_rules())[1] == "director"
    assert classify_one("Director Trainee Program", load_persona_rules(write_config(tmp_path, intern_first)))[1] == "intern"


def _set(path: list, value):
    def edit(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _delete(path: list):
    def edit(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return edit


@pytest.mark.parametrize(("edit", "where", "problem"), [
    (lambda d: d["functions"].__setitem__("sales_ops", {"keywords": ["revops"]}), "functions.sales_ops",
     "is not one of"),
    (_set(["seniority", 0, "level"], "boss"), r"seniority\[0\].level", "is not one of"),
    (_set(["executive_titles", 0, "function"], "ceo"), r"executive_titles\[0\].function", "is not one of"),
    (_set(["functions", "marketing", "keywords"], []), "functions.marketing.keywords", "the list is empty"),
    (_set(["seniority", 0, "patterns"], []), r"seniority\[0\].patterns", "the list is empty"),
    (_set(["functions", "marketing", "keywords", 0], "market(ing"), r"functions.marketing.keywords\[0\]",
     "not a valid regular expression"),
    (_set(["functions", "legal", "keywords", 0], "(?<!para)legal"), r"functions.legal.keywords\[0\]",
     "not a valid regular expression"),
    (_set(["functions", "sales", "keywords", 0], "Sales"), r"functions.sales.keywords\[0\]", "capital letters"),
    (_set(["functions", "sales", "translations", 0], "verkäufer"), r"functions.sales.translations\[0\]",
     "accents"),
    (_set(["functions", "sales", "translations", 0], r"vertrieb\w*"), r"functions.sales.translations\[0\]",
     r"uses \\w"),
    (_set(["functions", "sales", "translations", 0], ""), r"functions.sales.translations\[0\]", "non-empty"),
    (lambda d: d["functions"]["marketing"].__setitem__("keyword", ["x"]), "functions.marketing.keyword",
     "is not one of"),
    (_delete(["functions", "legal"]), "functions.legal", "required key is missing"),
    (lambda d: d["seniority"].pop(), "seniority", "no rule for senior"),
    (lambda d: d["seniority"].append({"level": "vp", "patterns": ["vp"]}), r"seniority\[7\].level",
     "listed twice"),
    (_delete(["persona_labels", "functions", "hr"]), "persona_labels.functions.hr", "required key is missing"),
    (_set(["normalise", "rewrite", 0, "replace"], "V.P."), r"normalise.rewrite\[0\].replace", "lowercase"),
    (_set(["normalise", "rewrite", 0, "pattern"], "v(p"), r"normalise.rewrite\[0\].pattern", "not a valid"),
    (_set(["missing_titles", 0], "N/A"), r"missing_titles\[0\]", "normalised"),
    (_set(["executive_titles"], []), "executive_titles", "the list is empty"),
])
def test_config_mistakes_name_file_and_key(tmp_path, edit, where, problem):
    folder = write_config(tmp_path, edit)
    with pytest.raises(ConfigError, match=rf"personas\.yaml: {where}: .*{problem}"):
        load_persona_rules(folder)


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"personas\.yaml: file not found"):
        load_persona_rules(tmp_path)


# --- the report command --------------------------------------------------------------------------------

def test_onet_coverage_on_a_small_onet_folder(tmp_path, rules):
    (tmp_path / "Alternate_Titles.txt").write_text(
        "O*NET-SOC Code\tAlternate Title\tShort Title\tSource(s)\n"
        "11-2021.00\tMarketing Director\tn/a\t08\n"
        "11-9013.00\tRanch Boss\tn/a\t08\n"
        "27-1024.00\tGraphic Designer\tn/a\t08\n"
        "27-2011.00\tActor\tn/a\t08\n"          # 27-2 is not a business group
        "47-2031.00\tCarpenter\tn/a\t08\n", encoding="utf-8")
    coverage = onet_coverage(read_onet_titles(tmp_path), rules)
    by_group = {r["soc_group"]: (r["titles"], r["covered"]) for r in coverage.iter_rows(named=True)}
    assert by_group == {"11": (2, 0.5), "27-1": (1, 1.0), "all": (3, 2 / 3)}


def test_report_skips_coverage_without_onet(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ONET_DIR", str(tmp_path / "absent"))
    assert main([]) == 0
    printed = capsys.readouterr().out
    assert "O*NET coverage skipped" in printed and "absent" in printed
    assert "holdout" in printed and "function" in printed
