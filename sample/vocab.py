"""Built-in word lists the sample generator draws from: titles, names, places, companies, site pages.

Written by hand for this project (no third-party title lists are copied here). Lists are tuples so
that the order, and therefore every seeded draw, never changes by accident: append, don't reorder.
"""
from __future__ import annotations

# Our own (fictional) company: the site the web events happen on. Matches config/web.yaml own_site.
SITE = "https://www.northwindanalytics.com"
APP = "https://app.northwindanalytics.com"

# ~200 realistic B2B job titles as people type them into forms and CRMs.
JOB_TITLES_EN: tuple[str, ...] = (
    "Chief Marketing Officer", "CMO", "VP, Marketing", "VP of Marketing", "Vice President Marketing",
    "SVP Marketing", "EVP, Global Marketing", "Director of Marketing", "Marketing Director",
    "Sr. Director, Demand Generation", "Head of Marketing", "Head of Growth", "Head of Demand Gen",
    "Demand Generation Manager", "Sr. Mgr, Demand Gen", "Marketing Manager", "Senior Marketing Manager",
    "Product Marketing Manager", "Sr. Product Marketing Manager", "PMM", "Director, Product Marketing",
    "Content Marketing Manager", "Content Strategist", "Content Writer", "SEO Specialist", "SEO Manager",
    "Head of SEO", "Paid Media Manager", "PPC Specialist", "Performance Marketing Manager",
    "Paid Social Specialist", "Digital Marketing Specialist", "Digital Marketing Manager",
    "Marketing Operations Manager", "Marketing Ops Specialist", "Director of Marketing Operations",
    "Email Marketing Specialist", "Lifecycle Marketing Manager", "Growth Marketing Manager",
    "Growth Hacker", "Marketing Coordinator", "Marketing Associate", "Marketing Intern",
    "Brand Manager", "Field Marketing Manager", "Event Marketing Manager", "ABM Manager",
    "Account Based Marketing Lead", "Social Media Manager", "Community Manager", "Communications Manager",
    "PR Manager", "Marketing Analyst", "Mktg Mgr", "Partner Marketing Manager",
    "Chief Revenue Officer", "CRO", "VP Sales", "VP, Sales", "SVP, Worldwide Sales", "Sales Director",
    "Director of Sales", "Regional Sales Director", "Head of Sales", "Sales Manager", "Inside Sales Manager",
    "Account Executive", "Senior Account Executive", "Sr. AE", "Enterprise Account Executive", "AE",
    "Sales Development Representative", "SDR", "BDR", "Business Development Representative",
    "Business Development Manager", "Director, Business Development", "Account Manager",
    "Key Account Manager", "Strategic Account Manager", "Sales Engineer", "Solutions Consultant",
    "Sales Operations Manager", "Revenue Operations Manager", "Director of Revenue Operations",
    "RevOps Analyst", "Sales Ops Analyst", "Channel Partner Manager", "Partnerships Manager",
    "VP Customer Success", "Head of Customer Success", "Customer Success Manager", "CSM",
    "Senior Customer Success Manager", "Customer Support Specialist", "Support Team Lead",
    "Director of Customer Support", "Implementation Manager", "Onboarding Specialist",
    "Customer Experience Manager", "Technical Account Manager",
    "Chief Executive Officer", "CEO", "Founder", "Co-founder", "Co-founder & CTO", "Co-Founder and CEO",
    "Founder & CEO", "Owner", "President", "Managing Director", "Managing Partner", "General Manager",
    "Chief Operating Officer", "COO", "Chief Financial Officer", "CFO", "Chief Technology Officer", "CTO",
    "Chief Information Officer", "CIO", "CISO", "Chief Data Officer", "CDO", "Chief of Staff",
    "VP Engineering", "VP of Engineering", "Director of Engineering", "Engineering Manager",
    "Software Engineer", "Senior Software Engineer", "Sr. Software Eng.", "Staff Engineer",
    "Principal Engineer", "Full Stack Developer", "Frontend Developer", "Backend Developer",
    "DevOps Engineer", "Site Reliability Engineer", "QA Engineer", "QA Lead",
    "VP Product", "Head of Product", "Director of Product Management", "Product Manager",
    "Senior Product Manager", "Product Owner", "Associate Product Manager",
    "UX Designer", "Product Designer", "Senior UX Researcher", "Creative Director", "Graphic Designer",
    "Head of Design", "IT Manager", "IT Director", "Director of IT", "Systems Administrator",
    "Network Engineer", "Help Desk Technician", "IT Support Specialist", "Information Security Analyst",
    "Data Scientist", "Senior Data Scientist", "Data Analyst", "Business Intelligence Analyst",
    "BI Developer", "Data Engineer", "Analytics Manager", "Head of Data", "Director of Analytics",
    "Analytics Engineer", "Finance Manager", "Controller", "Financial Analyst", "Accountant",
    "VP Finance", "Director of Finance", "HR Manager", "HR Business Partner", "HRBP", "Recruiter",
    "Talent Acquisition Specialist", "Head of People", "VP People", "People Operations Manager",
    "Operations Manager", "Director of Operations", "Office Manager", "Procurement Manager",
    "Supply Chain Manager", "Logistics Coordinator", "General Counsel", "Legal Counsel",
    "Compliance Manager", "Paralegal", "Consultant", "Senior Consultant", "Project Manager",
    "Program Manager", "Executive Assistant", "Administrative Assistant", "Student",
    "Working Student Marketing", "Marketing Trainee", "Sales Intern", "Team Lead, Inbound Sales",
    "Marketing - VP", "mktg manager", "Dir. Marketing", "VP Mktg", "Sr. Eng. Manager",
)

JOB_TITLES_DE: tuple[str, ...] = (
    "Geschäftsführer", "Geschäftsführerin", "Leiter Vertrieb", "Leiterin Marketing", "Leiter Marketing",
    "Marketingleiter", "Vertriebsleiter", "Head of Marketing DACH", "Teamleiter Vertrieb",
    "Marketing Manager", "Key Account Manager", "Vertriebsmitarbeiter", "Werkstudent Marketing",
    "Prokurist", "Bereichsleiter IT", "Softwareentwickler", "Projektleiter", "Inhaber",
)
JOB_TITLES_FR: tuple[str, ...] = (
    "Directeur commercial", "Directrice marketing", "Responsable marketing", "Responsable commercial",
    "Chef de projet marketing", "Directeur général", "Président-directeur général", "Chargé de marketing",
    "Responsable communication", "Ingénieur commercial", "Directeur des systèmes d'information",
    "Stagiaire marketing", "Gérant",
)
JOB_TITLES_ES: tuple[str, ...] = (
    "Gerente de ventas", "Director de marketing", "Directora comercial", "Responsable de marketing",
    "Jefe de ventas", "Director general", "Gerente general", "Ejecutivo de cuentas",
    "Especialista en marketing digital", "Consejero delegado", "Becario de marketing",
)

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
           "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
           "Chris", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley",
           "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin", "Melissa", "Brian",
           "Stephanie", "Ryan", "Rebecca", "Jane", "Priya", "Wei", "Aisha", "Carlos", "Olivia", "Liam",
           "Noah", "Emma", "Sophie", "Oliver", "Harry", "Amelia", "Jack", "Grace", "Chloe", "Ethan"),
    "de": ("Lukas", "Anna", "Jonas", "Lena", "Felix", "Laura", "Maximilian", "Julia", "Leon", "Sarah",
           "Paul", "Katharina", "Jan", "Sophie", "Tobias", "Hannah", "Stefan", "Jürgen", "Sabine", "Jörg"),
    "fr": ("Camille", "Louis", "Léa", "Hugo", "Manon", "Lucas", "Chloé", "Jules", "Inès", "Théo",
           "Élodie", "Nicolas", "Céline", "Antoine", "Mathilde", "François"),
    "es": ("Lucía", "Hugo", "Martina", "Pablo", "María", "Javier", "Sofía", "Alejandro", "Carmen",
           "Daniel", "Paula", "Sergio", "Elena", "José", "Nuria"),
    "nl": ("Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Bram", "Tess", "Jesse", "Anouk"),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
           "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
           "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
           "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
           "Doe", "O'Brien", "Patel", "Chen", "Nguyen", "Kim", "Singh", "Evans", "Hughes", "Murphy",
           "Edwards", "Collins", "Stewart", "Morris", "Cook", "Rogers", "Reed", "Cooper", "Bailey"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
           "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Faure"),
    "es": ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
           "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno"),
    "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
           "Smit", "Meijer", "de Boer", "Mulder"),
}

# Transliteration for email local parts (Müller -> mueller, Léa -> lea).
ASCII_FOLD: tuple[tuple[str, str], ...] = (
    ("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("é", "e"), ("è", "e"), ("ê", "e"), ("ë", "e"),
    ("à", "a"), ("â", "a"), ("á", "a"), ("ç", "c"), ("î", "i"), ("ï", "i"), ("í", "i"), ("ô", "o"),
    ("ó", "o"), ("ú", "u"), ("û", "u"), ("ñ", "n"), ("'", ""), (" ", ""),
)

# country -> (weight, name language, email TLD, legal forms, phone country code)
COUNTRIES: dict[str, tuple[float, str, str, tuple[str, ...], str]] = {
    "US": (0.55, "en", ".com", ("Inc.", "LLC", "Corp.", ""), "1"),
    "GB": (0.12, "en", ".co.uk", ("Ltd", "Ltd.", "plc", ""), "44"),
    "DE": (0.09, "de", ".de", ("GmbH", "AG", "GmbH & Co. KG", ""), "49"),
    "FR": (0.06, "fr", ".fr", ("SAS", "SA", "SARL", ""), "33"),
    "ES": (0.04, "es", ".es", ("S.L.", "S.A.", ""), "34"),
    "CA": (0.06, "en", ".ca", ("Inc.", "Ltd.", "Corp.", ""), "1"),
    "NL": (0.04, "nl", ".nl", ("B.V.", "N.V.", ""), "31"),
    "AU": (0.04, "en", ".com.au", ("Pty Ltd", "Ltd", ""), "61"),
}

# country -> ((city, state, postal code, phone area code), ...)
CITIES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "US": (("San Francisco", "CA", "94105", "415"), ("New York", "NY", "10001", "212"),
           ("Austin", "TX", "78701", "512"), ("Boston", "MA", "02110", "617"), ("Chicago", "IL", "60601", "312"),
           ("Seattle", "WA", "98101", "206"), ("Denver", "CO", "80202", "303"), ("Atlanta", "GA", "30303", "404"),
           ("Los Angeles", "CA", "90012", "213"), ("Miami", "FL", "33131", "305"), ("Raleigh", "NC", "27601", "919"),
           ("Salt Lake City", "UT", "84101", "801"), ("Minneapolis", "MN", "55401", "612"),
           ("Portland", "OR", "97204", "503"), ("Pittsburgh", "PA", "15222", "412")),
    "GB": (("London", "", "EC1A 1BB", "20"), ("Manchester", "", "M1 1AE", "161"), ("Bristol", "", "BS1 4DJ", "117"),
           ("Edinburgh", "", "EH1 1YZ", "131"), ("Leeds", "", "LS1 4DY", "113")),
    "DE": (("Berlin", "BE", "10115", "30"), ("München", "BY", "80331", "89"), ("Hamburg", "HH", "20095", "40"),
           ("Köln", "NW", "50667", "221"), ("Frankfurt am Main", "HE", "60311", "69")),
    "FR": (("Paris", "IDF", "75002", "1"), ("Lyon", "ARA", "69002", "4"), ("Toulouse", "OCC", "31000", "5"),
           ("Nantes", "PDL", "44000", "2")),
    "ES": (("Madrid", "MD", "28001", "91"), ("Barcelona", "CT", "08001", "93"), ("Valencia", "VC", "46001", "96")),
    "CA": (("Toronto", "ON", "M5V 2T6", "416"), ("Vancouver", "BC", "V6B 1A1", "604"),
           ("Montréal", "QC", "H2Y 1C6", "514"), ("Calgary", "AB", "T2P 1J9", "403")),
    "NL": (("Amsterdam", "NH", "1012 AB", "20"), ("Rotterdam", "ZH", "3011 AA", "10"), ("Utrecht", "UT", "3511 AB", "30")),
    "AU": (("Sydney", "NSW", "2000", "2"), ("Melbourne", "VIC", "3000", "3"), ("Brisbane", "QLD", "4000", "7")),
}

INDUSTRIES: tuple[str, ...] = (
    "Computer Software", "Information Technology & Services", "Financial Services", "Marketing & Advertising",
    "Hospital & Health Care", "Manufacturing", "Retail", "Higher Education", "Professional Services",
    "Telecommunications", "Logistics & Supply Chain", "Media & Entertainment", "Insurance", "Real Estate",
    "Biotechnology", "E-Learning", "Automotive", "Construction",
)

COMPANY_WORDS_A: tuple[str, ...] = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Pied", "Soylent",
    "Cyberdyne", "Tyrell", "Wonka", "Gringotts", "Oscorp", "Massive", "Blue", "Red", "Green", "Silver",
    "Golden", "North", "South", "East", "West", "Bright", "Clear", "Swift", "Prime", "Apex", "Summit",
    "Pioneer", "Nova", "Stellar", "Quantum", "Vertex", "Zenith", "Orbit", "Cedar", "Maple", "Oak", "Pine",
    "River", "Harbor", "Granite", "Iron", "Atlas", "Beacon", "Crescent", "Delta", "Echo", "Falcon", "Harmony",
    "Horizon", "Ivy", "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Polar", "Quartz",
    "Radiant", "Sierra", "Terra", "Unity", "Vivid", "Willow", "Xenon", "Yellowstone", "Zephyr", "Alpine",
    "Bluebird", "Copper", "Dune", "Ember", "Fjord", "Glacier", "Helix", "Indigo", "Jade", "Keystone",
    "Lighthouse", "Mosaic", "Nordic", "Opal", "Pixel", "Ridge", "Sapphire", "Tidal", "Upland", "Vector",
)
COMPANY_WORDS_B: tuple[str, ...] = (
    "Analytics", "Systems", "Labs", "Software", "Solutions", "Technologies", "Data", "Cloud", "Networks",
    "Logistics", "Health", "Capital", "Partners", "Group", "Industries", "Dynamics", "Media", "Digital",
    "Robotics", "Energy", "Foods", "Financial", "Consulting", "Security", "Works", "Studios", "Bio",
    "Manufacturing", "Retail", "Learning", "Insights", "Commerce", "Mobility", "Ventures", "Holdings",
)

PERSONAL_DOMAINS: tuple[str, ...] = ("gmail.com", "yahoo.com", "outlook.com", "googlemail.com", "hotmail.com")

LEAD_SOURCES_SALESFORCE: tuple[str, ...] = (
    "Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Other",
)
LEAD_SOURCES_HUBSPOT: tuple[str, ...] = (
    "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS", "PAID_SOCIAL",
    "DIRECT_TRAFFIC", "OFFLINE", "OTHER_CAMPAIGNS",
)
# Lead sources whose lead was created by a form on our site (the generator gives them a form fill).
WEB_LEAD_SOURCES: frozenset[str] = frozenset({
    "Web", "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS", "PAID_SOCIAL",
    "DIRECT_TRAFFIC",
})
LIFECYCLE_STAGES: tuple[str, ...] = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
)

# (content_id, section, title, topic). Ids listed in config/content.yaml appear here too.
CONTENT: tuple[tuple[str, str, str, str], ...] = (
    ("linkedin-ppc-guide", "guides", "The LinkedIn PPC Guide for B2B", "paid_media"),
    ("google-ads-benchmarks-2026", "guides", "Google Ads Benchmarks 2026", "paid_media"),
    ("retargeting-playbook", "guides", "The B2B Retargeting Playbook", "paid_media"),
    ("paid-social-budget-calculator", "blog", "How Much Should You Spend on Paid Social?", "paid_media"),
    ("state-of-b2b-search", "guides", "The State of B2B Search", "seo"),
    ("seo-checklist", "guides", "The Technical SEO Checklist", "seo"),
    ("keyword-research-for-saas", "blog", "Keyword Research for SaaS", "seo"),
    ("newsletter-playbook", "guides", "The Newsletter Playbook", "email_marketing"),
    ("email-deliverability-guide", "guides", "Email Deliverability, Explained", "email_marketing"),
    ("drip-campaign-examples", "blog", "12 Drip Campaign Examples", "email_marketing"),
    ("attribution-workbook", "guides", "The Multi-touch Attribution Workbook", "analytics"),
    ("ga4-migration-guide", "guides", "GA4 Migration Guide", "analytics"),
    ("marketing-dashboards", "blog", "Marketing Dashboards That Get Used", "analytics"),
    ("target-account-list-template", "guides", "Target Account List Template", "abm"),
    ("abm-playbook", "guides", "The ABM Playbook", "abm"),
    ("account-based-advertising", "blog", "Account-based Advertising in Practice", "abm"),
    ("linkedin-organic-growth", "blog", "Growing a LinkedIn Company Page", "social_media"),
    ("social-media-calendar", "guides", "Social Media Calendar Template", "social_media"),
    ("editorial-calendar-template", "guides", "Editorial Calendar Template", "content_marketing"),
    ("content-marketing-roi", "blog", "Measuring Content Marketing ROI", "content_marketing"),
    ("b2b-storytelling", "blog", "Storytelling for B2B Brands", "content_marketing"),
)
TOPICS: tuple[str, ...] = (
    "paid_media", "seo", "email_marketing", "analytics", "abm", "social_media", "content_marketing",
)

# Marketing pages that are not content: (path, title, weight).
SITE_PAGES: tuple[tuple[str, str, float], ...] = (
    ("/", "Northwind Analytics: audience segmentation for B2B", 6.0),
    ("/product", "Product", 3.0),
    ("/features/segmentation", "Segmentation", 2.0),
    ("/features/audience-sync", "Audience sync", 1.5),
    ("/integrations", "Integrations", 1.5),
    ("/customers", "Customer stories", 1.5),
    ("/about", "About us", 0.8),
    ("/careers", "Careers", 0.5),
    ("/contact", "Contact sales", 0.7),
    ("/demo", "Book a demo", 0.8),
    ("/pricing", "Pricing", 1.2),
)
PRODUCT_FEATURES: tuple[str, ...] = (
    "segments", "audience_sync", "dashboards", "reports", "lookalikes", "enrichment", "alerts", "api",
)
PRODUCT_EVENTS: tuple[str, ...] = ("Feature Used", "Report Created", "Seat Invited")

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
)
BOT_USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "python-requests/2.32.3",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "curl/8.5.0",
)
REFERRAL_HOSTS: tuple[str, ...] = (
    "https://www.g2.com/products/northwind-analytics/reviews", "https://www.capterra.com/p/northwind/",
    "https://news.ycombinator.com/", "https://martech.org/b2b-segmentation-tools/",
    "https://www.producthunt.com/posts/northwind", "https://partner.hubspot.com/directory",
)
SEARCH_REFERRERS: tuple[str, ...] = (
    "https://www.google.com/", "https://www.google.com/", "https://www.google.com/", "https://www.bing.com/",
    "https://www.google.co.uk/", "https://duckduckgo.com/",
)
