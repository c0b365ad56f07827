"""The fixed vocabularies the checks accept when no config file says otherwise.

Band labels are fixed by issue 3 (LinkedIn / People Data Labs bands plus `unknown`), functions and
seniorities by issue 3's taxonomy, channels by GA4's default channel grouping plus the CRM-only
channels. The segment rules read their own config files; the checks prefer those files too (see
`value_sets.py`) and fall back to these lists only when a file is missing or shaped differently, so a
check never silently accepts everything.
"""
from __future__ import annotations

COMPANY_SIZE_BANDS = (
    "1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10001+", "unknown",
)

COMPANY_TIERS = ("startup", "smb", "mid_market", "enterprise", "unknown")

PERSONA_FUNCTIONS = (
    "marketing", "sales", "customer_success", "product", "design", "engineering", "it", "data",
    "finance", "hr", "operations", "legal", "general_management", "other",
)

# `unknown` covers contacts without a job title (issue 3 lists the eight levels for known titles).
PERSONA_SENIORITIES = ("owner", "cxo", "vp", "director", "manager", "senior", "entry", "intern", "unknown")

GA4_CHANNELS = (
    "Direct", "Cross-network", "Paid Shopping", "Paid Search", "Paid Social", "Paid Video", "Display",
    "Paid Other", "Organic Shopping", "Organic Social", "Organic Video", "Organic Search", "Referral",
    "Email", "Affiliates", "Audio", "SMS", "Mobile Push Notifications",
)
CRM_ONLY_CHANNELS = ("Offline", "Partner", "Purchased List")
UNASSIGNED_CHANNEL = "Unassigned"

CONTENT_TOPICS = (
    "paid_media", "seo", "email_marketing", "analytics", "abm", "social_media", "content_marketing",
)

# Segment spec call types (the generator writes page, identify and track; the others are legal Segment).
WEB_EVENT_TYPES = ("page", "track", "identify", "screen", "group", "alias")

RAW_FORMATS = ("canonical", "hubspot", "salesforce", "segment")

# staging.opportunities.type: sql/staging/opportunities.sql maps every vendor picklist to these four
# (`other` is its catch-all), so anything else means the SQL and the contract drifted apart.
OPPORTUNITY_TYPES = ("new_business", "upsell", "renewal", "other")

# staging.subscriptions.status (lowercased): the billing systems' usual states (Stripe, Chargebee,
# Salesforce CPQ). sql/staging/subscriptions.sql treats cancelled/canceled/churned/expired as ended; a
# value outside this list is a state nobody decided about yet.
SUBSCRIPTION_STATUSES = (
    "active", "trial", "trialing", "past_due", "unpaid", "incomplete", "incomplete_expired", "paused",
    "pending", "suspended", "cancelled", "canceled", "churned", "expired",
)

OTHER_PERSONA = "other"
