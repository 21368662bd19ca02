"""The words demo data is made of: names, cities, tags, subjects.

Kept apart from ``account_data.py`` so the generator reads as logic. Changing a
list here changes the seeded data (it is drawn with a fixed random seed), so
tests assert properties of the data, not particular names.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia", "Liam", "Amara", "Noah", "Sofia", "Mateo", "Priya", "Elijah",
    "Chloe", "Lucas", "Aisha", "Hugo", "Mei", "Oscar", "Zara", "Theo", "Ingrid",
    "Kofi", "Lena", "Rafael", "Nora", "Yusuf", "Clara", "Diego", "Hana", "Felix",
    "Maya", "Jonah", "Elena", "Arjun", "Isla", "Samuel", "Freya", "Tomas",
    "Leila", "Benjamin", "Ruby", "Kenji", "Alice", "Omar", "Grace", "Pablo",
    "Naomi", "Ethan", "Ivy", "Marco", "Saoirse", "Daniel", "Lucia", "Finn",
    "Esther", "Malik", "Rosa", "Henry", "Anika", "Victor", "June", "Caleb",
)  # fmt: skip

LAST_NAMES = (
    "Okafor", "Nguyen", "Schmidt", "Garcia", "Patel", "Kowalski", "Rossi",
    "Andersson", "Murphy", "Tanaka", "Haddad", "Dubois", "Silva", "Kim",
    "Johansson", "Moreau", "Fischer", "Mensah", "Costa", "Novak", "Brennan",
    "Ivanova", "Lopez", "Walsh", "Sato", "Hughes", "Jensen", "Bianchi",
    "Chen", "Ahmed", "Lindqvist", "Martins", "O'Connor", "Weber", "Reyes",
    "Kaur", "Dvorak", "Evans", "Yamamoto", "Bauer", "Fontaine", "Adeyemi",
    "Larsen", "Romano", "Castillo", "Park", "Whitaker", "Horvat", "Ortiz",
)  # fmt: skip

CITIES = (
    "Lisbon", "Toronto", "Melbourne", "Austin", "Dublin", "Osaka", "Lyon",
    "Nairobi", "Portland", "Edinburgh", "Bologna", "Vancouver", "Leeds",
)  # fmt: skip

COOKING_LEVELS = ("Beginner", "Home cook", "Enthusiast", "Professional")

EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

#: Tag name and how many subscribers carry it: very different sizes, and
#: one made too recently to have any (a tag page's empty state).
ADA_TAGS = (
    ("Recipe Lovers", 1400), ("Weeknight Dinners", 620), ("Baking", 380),
    ("Vegetarian", 240), ("Meal Prep", 150), ("Customer", 90),
    ("Cookbook Preorder", 45), ("Workshop Attendee", 18), ("VIP", 7),
    ("Masterclass Waitlist", 0),
)  # fmt: skip

#: What a customer bought last (the "Last purchase" custom field).
PURCHASES = (
    "Ada's Kitchen cookbook", "Baking Masterclass", "7-Day Meal Plan (paid)",
    "Knife skills course", "Sourdough starter kit", "Spice blend set",
)  # fmt: skip

ADA_FORMS = (
    # name, type, format, archived
    ("Weekly Recipes Signup", "embed", "inline", False),
    ("Free 7-Day Meal Plan", "embed", "modal", False),
    ("Baking Masterclass Waitlist", "hosted", None, False),
    ("Holiday Cookie Guide", "embed", "slide in", True),
    ("Spring Giveaway", "hosted", None, True),
)

ADA_SEQUENCES = (
    # name, hold, repeat
    ("Welcome to Ada's Kitchen", False, False),
    ("7-Day Meal Plan", False, False),
    ("Baking Masterclass Launch", True, False),
    ("We Miss You", False, True),
)

ADA_SUBJECTS = (
    ("Five pantry dinners for busy weeks", "No shopping trip needed."),
    ("The secret to crispier roast potatoes", "It's all in the parboil."),
    ("My grandmother's lemon cake", "A recipe I've never shared before."),
    ("What I cooked this week", "Plus one disaster."),
    ("Sourdough, simplified", "A starter you can't kill."),
    ("Soup season is here", "Three bowls to get you through October."),
    ("One-pan pasta, four ways", "Less washing up, more eating."),
    ("Knife skills in ten minutes", "A video lesson for every level."),
    ("Your questions, answered", "Freezing herbs, salting water and more."),
    ("A cheaper way to meal prep", "Batch once, eat all week."),
    ("Spice drawer clean-out", "What to keep, what to toss."),
    ("The best brownies I've made", "Fudgy, not cakey. Sorry."),
    ("Dinner party without the panic", "A timeline that works."),
    ("Vegetarian mains that satisfy", "Even the meat lovers asked for seconds."),
    ("Bread for beginners", "Start with this focaccia."),
    ("Cooking with kids", "Recipes small hands can help with."),
    ("Summer salads that aren't sad", "Grains, herbs and crunch."),
    ("Homemade stock, explained", "Turn scraps into gold."),
    ("Fermentation for the curious", "Kimchi, kraut and pickles."),
    ("Breakfasts worth waking up for", "Make-ahead and weekend specials."),
    ("Five desserts, five ingredients", "Short lists, big flavour."),
    ("The cookbook is almost here", "Pre-orders close Friday."),
    ("Masterclass doors open soon", "Join the waitlist for first dibs."),
    ("Holiday baking timetable", "What to bake, and when."),
    ("New year, new pantry", "A fresh start for your kitchen."),
)

BEN_TAGS = (("Python", 24), ("Rust", 11), ("Weekly Digest", 3))

COMPANIES = (
    "Northwind Labs", "Bluefin Systems", "Acme Robotics", "Parcel & Co",
    "Tidewater Health", "Granite Analytics", "Fieldnote Studio",
)  # fmt: skip

ROLES = (
    "Backend engineer", "Frontend engineer", "Data scientist", "SRE",
    "Engineering manager", "Student", "CTO",
)  # fmt: skip

BEN_SUBJECTS = (
    ("Byte-Sized Notes #41: generators", "Lazy evaluation in five minutes."),
    ("Byte-Sized Notes #42: lifetimes", "Borrowing without tears."),
    ("Byte-Sized Notes #43: draft", "Work in progress."),
)
