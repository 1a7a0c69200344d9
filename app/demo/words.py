"""Word lists the demo builds invented names from. Plain data: no logic lives here.

Place names are compounds of an uncommon plant or bird word and an English place-name
ending ("Teaselford", "Medlarcombe"), so they read as English villages without being real
ones; REAL_PLACE_NAMES catches the few compounds that do exist.
"""

PLACE_STEMS = (
    "Bramble", "Brindle", "Burdock", "Campion", "Catkin", "Clover", "Coppice", "Cowslip",
    "Dapple", "Fennel", "Foxglove", "Harebell", "Juniper", "Kestrel", "Lapwing", "Linnet",
    "Mallow", "Marram", "Medlar", "Merlin", "Moorhen", "Nettle", "Osier", "Plover",
    "Quince", "Redstart", "Samphire", "Sorrel", "Speedwell", "Tansy", "Teasel", "Thrift",
    "Vetch", "Wagtail", "Waxwing", "Woodruff", "Yarrow", "Chervil", "Dunnock", "Pipit",
    "Starwort", "Bittern", "Comfrey", "Hornbeam", "Spindle", "Wryneck", "Tamarisk", "Betony",
    "Agrimony", "Bryony", "Celandine", "Dogrose", "Eyebright", "Fleabane", "Goldcrest", "Hazelnut",
    "Knapweed", "Lovage", "Madder", "Nightjar", "Oxlip", "Pennywort", "Ragwort", "Sanicle",
)

PLACE_ENDINGS = (
    "bourne", "brook", "by", "combe", "cote", "croft", "dale", "den", "field", "ford",
    "ham", "holme", "hurst", "ley", "mere", "moor", "stead", "stow", "thorpe", "ton",
    "well", "wick", "worth", "wold", "marsh", "bury", "minster", "borough", "chester", "caster",
)

# Villages sometimes carry a prefix or suffix that tells two of the same name apart.
PLACE_PREFIXES = ("Great ", "Little ", "North ", "South ", "East ", "West ", "Upper ", "Lower ",
                  "Nether ", "Long ", "Kings ", "Bishops ")
PLACE_SUFFIXES = (" Green", " Heath", " Vale", " Common", " End", " Hill")

# Compounds of the lists above that are real English places: never used.
REAL_PLACE_NAMES = frozenset({
    "Nettleham", "Nettlecombe", "Nettlestead", "Nettleton", "Nettleworth", "Nettleden",
})

# Saints' names used for church schools: "St Kenelm's C of E Primary School, Teaselford".
SAINTS = (
    "Aidan", "Aldhelm", "Anselm", "Boniface", "Brigid", "Chad", "Cuthbert", "Dunstan",
    "Edburga", "Edmund", "Etheldreda", "Frideswide", "Hilda", "Kenelm", "Oswald", "Petroc",
    "Swithun", "Werburgh", "Wilfrid", "Wulfstan", "Birinus", "Cedd", "Botolph", "Guthlac",
)

FIRST_NAMES = (
    "Aisha", "Alex", "Alice", "Amara", "Amir", "Andrew", "Anna", "Ben", "Bethan", "Callum",
    "Catherine", "Charlotte", "Chloe", "Chris", "Claire", "Daniel", "David", "Deborah", "Eleanor",
    "Emily", "Emma", "Fatima", "Fiona", "Gareth", "Grace", "Hannah", "Harriet", "Helen", "Imran",
    "Isabel", "Jack", "James", "Jane", "Joanna", "Jonathan", "Joseph", "Julia", "Karen", "Kate",
    "Kwame", "Laura", "Leah", "Liam", "Lucy", "Mark", "Martin", "Mary", "Matthew", "Megan",
    "Michael", "Nadia", "Naomi", "Neil", "Nicola", "Oliver", "Olivia", "Owen", "Patrick",
    "Paul", "Priya", "Rachel", "Rebecca", "Richard", "Rosie", "Ruth", "Sam", "Sarah", "Simon",
    "Sophie", "Stephen", "Susan", "Thomas", "Tom", "Victoria", "Wei", "William", "Yusuf", "Zara",
    "Zoe", "Hamid", "Ifeoma", "Lena", "Marek", "Niamh", "Rhys", "Siobhan", "Tariq", "Ursula",
)

SURNAMES = (
    "Adams", "Ahmed", "Akhtar", "Allen", "Bailey", "Baker", "Barker", "Bell", "Bennett", "Brooks",
    "Brown", "Butler", "Campbell", "Carter", "Chapman", "Clarke", "Collins", "Cooper", "Cox",
    "Davies", "Dixon", "Edwards", "Ellis", "Evans", "Fisher", "Fletcher", "Foster", "Gill",
    "Graham", "Grant", "Gray", "Green", "Hall", "Harris", "Hart", "Hill", "Holmes", "Hughes",
    "Hussain", "Jackson", "James", "Jenkins", "Johnson", "Jones", "Kaur", "Kelly", "Khan", "King",
    "Knight", "Lee", "Lewis", "Lloyd", "Marsh", "Marshall", "Mason", "Mills", "Mitchell", "Moore",
    "Morgan", "Morris", "Murphy", "Nelson", "Nowak", "Obi", "Okafor", "Osei", "Owen", "Palmer",
    "Parker", "Patel", "Pearce", "Phillips", "Price", "Reid", "Richards", "Roberts", "Robinson",
    "Rose", "Russell", "Scott", "Shah", "Shaw", "Simpson", "Singh", "Smith", "Stewart", "Taylor",
    "Thomas", "Thompson", "Turner", "Walker", "Ward", "Watson", "White", "Williams", "Wilson",
    "Wood", "Wright", "Young", "Zhang", "Kowalski", "Mensah", "O'Brien", "McAllister",
)

STREETS = (
    "School Lane", "Church Street", "Mill Lane", "Station Road", "The Green", "Chapel Road",
    "Orchard Way", "High Street", "Meadow Road", "Park Road", "Vicarage Lane", "Brook Street",
    "Manor Road", "Queens Road", "Victoria Road", "London Road", "Back Lane", "Well Lane",
    "Kiln Lane", "Pound Lane", "Tanners Lane", "Rectory Road", "Forge Lane", "Westfield Road",
)

# Invented provider names: "Northlight Education", "Clearwater Leadership Ltd".
PROVIDER_STEMS = ("Northlight", "Clearwater", "Brightpath", "Lanternfield", "Open Gate", "Waypoint",
                  "Kingsmoor", "Harbourside", "Longview", "Evergreen", "Stonebridge", "Oakapple")
PROVIDER_NOUNS = ("Education", "Leadership", "Learning", "Teacher Development", "Governance Services",
                  "Data Services", "Inclusion Consultancy", "School Business Services")

# Postcode inward codes use these letters only (no C, I, K, M, O, V).
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Real postcode areas for the invented local authorities of the national scale.
POSTCODE_AREAS = (
    "B", "BA", "BB", "BD", "BH", "BL", "BN", "BR", "BS", "CA", "CB", "CH", "CM", "CO", "CR",
    "CT", "CV", "CW", "DA", "DE", "DH", "DL", "DN", "DT", "DY", "EN", "EX", "GU", "HA", "HD",
    "HG", "HP", "HR", "HU", "HX", "IP", "KT", "L", "LA", "LE", "LN", "LS", "LU", "M", "ME",
    "MK", "NE", "NG", "NN", "NR", "OL", "OX", "PE", "PL", "PO", "PR", "RG", "RH", "RM", "S",
    "SG", "SK", "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST", "TA", "TF", "TN", "TQ", "TR",
    "TS", "TW", "UB", "WA", "WD", "WF", "WN", "WR", "WS", "WV", "YO",
)
