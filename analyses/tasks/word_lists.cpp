#include "analyses/tasks/word_lists.h"

namespace headscope::words {

const std::vector<std::string>& punctuation() {
  static const std::vector<std::string> list = {".", ",", "?", ":", "\n"};
  return list;
}

const std::vector<std::string>& function_words() {
  static const std::vector<std::string> list = {
      "the",   "a",      "an",     "and",     "or",     "but",     "of",     "to",      "in",
      "on",    "at",     "with",   "for",     "from",   "by",      "is",     "was",     "are",
      "were",  "be",     "been",   "has",     "had",    "have",    "do",     "did",     "not",
      "no",    "this",   "that",   "these",   "those",  "it",      "he",     "she",     "they",
      "we",    "i",      "you",    "his",     "her",    "their",   "my",     "your",    "our",
      "its",   "there",  "here",   "then",    "than",   "so",      "as",     "if",      "when",
      "while", "after",  "before", "because", "what",   "who",     "where",  "which",   "how",
      "very",  "all",    "some",   "many",    "few",    "each",    "every",  "other",   "another",
      "near",  "under",  "behind", "beside",  "above",  "below",   "across", "through", "into",
      "onto",  "over",   "around", "between", "inside", "outside", "up",     "down",    "out",
      "off",   "again",  "too",    "also",    "just",   "only",    "still",  "even",    "much",
      "more",  "most",   "less",   "both",    "either", "neither", "nor",    "yet",     "once",
      "said",  "says",   "think",  "thought", "knew",   "know",    "can",    "could",   "will",
      "would", "should", "must",   "may",     "might",  "them",    "him",    "me",      "us"};
  return list;
}

const std::vector<std::string>& names() {
  static const std::vector<std::string> list = {
      "alice", "bob",    "carol",  "david", "emma",   "frank",  "grace", "henry", "irene",
      "jack",  "karen",  "leo",    "maria", "nathan", "olivia", "peter", "quinn", "rachel",
      "sam",   "tina",   "victor", "wendy", "xavier", "yara",   "zoe",   "adam",  "bella",
      "chris", "diana",  "eric",   "fiona", "george", "hannah", "ivan",  "julia", "kevin",
      "laura", "mark",   "nina",   "oscar", "paula",  "ryan",   "sarah", "tom",   "ursula",
      "vera",  "walter", "amy",    "ben",   "clara",  "dan",    "ella",  "fred",  "gina",
      "hugo",  "iris",   "jonas",  "kate",  "luke",   "mia",    "noah",  "omar",  "pia"};
  return list;
}

const std::vector<std::string>& colors() {
  static const std::vector<std::string> list = {"red",    "blue",   "green", "yellow", "purple",
                                                "orange", "pink",   "brown", "black",  "white",
                                                "gray",   "silver", "gold",  "teal",   "violet",
                                                "maroon", "beige",  "navy",  "cyan",   "magenta"};
  return list;
}

const std::vector<std::string>& objects() {
  static const std::vector<std::string> list = {
      "ball",  "book",   "cup",    "pen",   "key",      "box",    "hat",     "lamp",
      "clock", "phone",  "bag",    "coin",  "ring",     "shoe",   "sock",    "plate",
      "spoon", "fork",   "knife",  "bowl",  "bottle",   "candle", "basket",  "brush",
      "comb",  "kite",   "drum",   "flute", "mirror",   "pillow", "blanket", "scarf",
      "glove", "wallet", "ticket", "map",   "envelope", "camera", "radio",   "umbrella"};
  return list;
}

const std::vector<std::string>& places() {
  static const std::vector<std::string> list = {
      "store",   "park",   "school", "garden", "beach",    "library", "market",
      "station", "office", "cafe",   "museum", "hospital", "church",  "bakery",
      "farm",    "river",  "forest", "harbor", "stadium",  "theater"};
  return list;
}

const std::vector<std::string>& digits() {
  static const std::vector<std::string> list = {"zero", "one", "two",   "three", "four",
                                                "five", "six", "seven", "eight", "nine"};
  return list;
}

const std::vector<std::string>& nouns() {
  static const std::vector<std::string> list = {
      "dog",       "cat",     "bird",      "fish",     "horse",      "cow",      "sheep",
      "goat",      "pig",     "duck",      "mouse",    "rabbit",     "fox",      "wolf",
      "bear",      "lion",    "tiger",     "frog",     "snake",      "owl",      "tree",
      "flower",    "grass",   "leaf",      "rock",     "stone",      "hill",     "mountain",
      "lake",      "sea",     "sky",       "sun",      "moon",       "star",     "cloud",
      "rain",      "snow",    "wind",      "fire",     "water",      "bread",    "cheese",
      "apple",     "pear",    "grape",     "lemon",    "cake",       "soup",     "milk",
      "tea",       "coffee",  "rice",      "egg",      "meat",       "salt",     "sugar",
      "honey",     "table",   "door",      "window",   "wall",       "floor",    "roof",
      "room",      "house",   "road",      "bridge",   "car",        "bus",      "train",
      "boat",      "ship",    "bike",      "plane",    "city",       "town",     "village",
      "street",    "corner",  "friend",    "teacher",  "doctor",     "farmer",   "baker",
      "driver",    "child",   "boy",       "girl",     "man",        "woman",    "king",
      "queen",     "student", "artist",    "singer",   "painter",    "sailor",   "pilot",
      "song",      "story",   "game",      "picture",  "idea",       "plan",     "neighbor",
      "cousin",    "uncle",   "aunt",      "guard",    "chef",       "nurse",    "clerk",
      "captain",   "poet",    "dancer",    "hunter",   "miller",     "tailor",   "waiter",
      "judge",     "puppy",   "kitten",    "pony",     "lamb",       "calf",     "chick",
      "squirrel",  "deer",    "turtle",    "crab",     "whale",      "shark",    "bee",
      "ant",       "spider",  "butterfly", "carrot",   "potato",     "tomato",   "onion",
      "bean",      "pea",     "corn",      "melon",    "cherry",     "plum",     "peach",
      "banana",    "cookie",  "pie",       "jam",      "butter",     "chair",    "bed",
      "desk",      "shelf",   "stair",     "gate",     "fence",      "yard",     "path",
      "field",     "valley",  "island",    "cave",     "pond",       "stream",   "shore",
      "wave",      "sand",    "shell",     "feather",  "nest",       "branch",   "root",
      "seed",      "rope",    "wheel",     "cart",     "wagon",      "tent",     "flag",
      "bell",      "horn",    "paper",     "note",     "page",       "poem",     "tune",
      "dream",     "joke",    "gift",      "party",    "dinner",     "lunch",    "breakfast",
      "meal",      "trip",    "walk",      "race",     "crowd",      "family",   "team",
      "class",     "band",    "club",      "army",     "crew",       "jacket",   "coat",
      "boot",      "sweater", "apron",     "button",   "needle",     "thread",   "hammer",
      "nail",      "ladder",  "bucket",    "shovel",   "rake",       "broom",    "sponge",
      "towel",     "soap",    "kettle",    "pot",      "pan",        "oven",     "stove",
      "sink",      "closet",  "drawer",    "carpet",   "curtain",    "sofa",     "bench",
      "stool",     "cabinet", "attic",     "cellar",   "porch",      "balcony",  "chimney",
      "garage",    "barn",    "stable",    "mill",     "tower",      "castle",   "palace",
      "temple",    "cottage", "hut",       "cabin",    "lighthouse", "canal",    "dock",
      "pier",      "cliff",   "meadow",    "orchard",  "desert",     "jungle",   "swamp",
      "glacier",   "volcano", "canyon",    "prairie",  "puddle",     "storm",    "thunder",
      "lightning", "rainbow", "fog",       "frost",    "breeze",     "shadow",   "sunrise",
      "sunset",    "planet",  "comet",     "rocket",   "engine",     "motor",    "tractor",
      "truck",     "taxi",    "ferry",     "canoe",    "raft",       "sled",     "saddle",
      "whistle",   "trumpet", "violin",    "piano",    "guitar",     "harp",     "parrot",
      "pigeon",    "eagle",   "hawk",      "crow",     "swan",       "goose",    "turkey",
      "hen",       "rooster", "donkey",    "camel",    "zebra",      "giraffe",  "monkey",
      "panda",     "koala",   "otter",     "beaver",   "badger",     "hedgehog", "mole",
      "lizard",    "snail",   "worm",      "moth",     "beetle",     "lobster",  "oyster",
      "salmon",    "trout",   "noodle",    "pizza",    "salad",      "sandwich", "pancake",
      "waffle",    "muffin",  "biscuit",   "candy",    "pudding",    "yogurt",   "cereal",
      "olive",     "pepper",  "garlic",    "cucumber", "pumpkin",    "mushroom", "walnut",
      "almond",    "coconut", "mango",     "kiwi",     "berry",      "juice"};
  return list;
}

const std::vector<std::string>& transitive_verbs() {
  static const std::vector<std::string> list = {
      "saw",      "found",    "took",      "made",     "bought",     "sold",      "carried",
      "painted",  "cleaned",  "opened",    "closed",   "moved",      "dropped",   "lifted",
      "held",     "kept",     "brought",   "read",     "wrote",      "drew",      "liked",
      "loved",    "hated",    "wanted",    "needed",   "lost",       "shared",    "hid",
      "washed",   "fixed",    "broke",     "built",    "cooked",     "ate",       "visited",
      "watched",  "heard",    "met",       "called",   "helped",     "followed",  "thanked",
      "greeted",  "chased",   "pushed",    "pulled",   "kicked",     "caught",    "counted",
      "checked",  "showed",   "touched",   "tasted",   "smelled",    "noticed",   "admired",
      "borrowed", "dried",    "filled",    "emptied",  "packed",     "wrapped",   "picked",
      "planted",  "fed",      "hugged",    "forgot",   "remembered", "described", "measured",
      "weighed",  "polished", "folded",    "hung",     "sorted",     "stacked",   "chose",
      "left",     "repaired", "stirred",   "poured",   "sliced",     "peeled",    "baked",
      "boiled",   "fried",    "mixed",     "tied",     "untied",     "buried",    "dug",
      "swept",    "scrubbed", "mended",    "sewed",    "knitted",    "copied",    "traded",
      "rented",   "ordered",  "delivered", "received", "collected",  "gathered",  "scattered",
      "spilled",  "splashed"};
  return list;
}

const std::vector<std::string>& intransitive_verbs() {
  static const std::vector<std::string> list = {
      "walked",    "ran",      "sat",       "stood",    "slept",    "sang",    "danced",  "laughed",
      "smiled",    "waited",   "worked",    "played",   "jumped",   "swam",    "flew",    "rested",
      "cried",     "shouted",  "whispered", "listened", "wandered", "hurried", "paused",  "stayed",
      "arrived",   "returned", "climbed",   "rolled",   "shone",    "glowed",  "fell",    "rose",
      "grew",      "waved",    "nodded",    "yawned",   "sneezed",  "hummed",  "dreamed", "studied",
      "travelled", "sailed",   "marched",   "crawled",  "hopped",   "floated", "drifted", "barked"};
  return list;
}

const std::vector<std::string>& adjectives() {
  static const std::vector<std::string> list = {
      "big",       "small",  "old",      "new",     "tall",     "short",    "long",    "heavy",
      "light",     "soft",   "hard",     "warm",    "cold",     "quiet",    "loud",    "happy",
      "sad",       "bright", "dark",     "clean",   "dirty",    "empty",    "full",    "round",
      "flat",      "smooth", "rough",    "young",   "fresh",    "dry",      "wet",     "fast",
      "slow",      "strong", "weak",     "kind",    "calm",     "brave",    "proud",   "lucky",
      "busy",      "tiny",   "huge",     "cheap",   "rare",     "simple",   "strange", "famous",
      "careful",   "gentle", "curious",  "lazy",    "clever",   "funny",    "sleepy",  "hungry",
      "tired",     "shiny",  "dusty",    "sweet",   "sour",     "bitter",   "plain",   "fancy",
      "narrow",    "wide",   "deep",     "shallow", "thick",    "thin",     "neat",    "messy",
      "polite",    "rude",   "shy",      "bold",    "wise",     "silly",    "gloomy",  "cheerful",
      "noisy",     "silent", "friendly", "grumpy",  "fierce",   "tame",     "wild",    "golden",
      "wooden",    "woolen", "cozy",     "chilly",  "sunny",    "rainy",    "windy",   "foggy",
      "ancient",   "modern", "humble",   "elegant", "clumsy",   "graceful", "nervous", "patient",
      "eager",     "jolly",  "merry",    "crooked", "straight", "hollow",   "solid",   "sticky",
      "slippery",  "fuzzy",  "prickly",  "crisp",   "juicy",    "salty",    "spicy",   "frozen",
      "melted",    "broken", "tidy",     "crowded", "lonely",   "distant",  "nearby",  "hidden",
      "secretive", "sturdy", "fragile"};
  return list;
}

const std::vector<std::string>& adverbs() {
  static const std::vector<std::string> list = {
      "quickly",   "slowly",    "quietly",   "loudly",     "often",    "never",     "always",
      "sometimes", "soon",      "later",     "early",      "today",    "yesterday", "tomorrow",
      "together",  "alone",     "away",      "home",       "happily",  "sadly",     "carefully",
      "gently",    "softly",    "proudly",   "suddenly",   "finally",  "slightly",  "nearly",
      "almost",    "rarely",    "usually",   "eagerly",    "calmly",   "bravely",   "lazily",
      "merrily",   "patiently", "nervously", "gracefully", "clumsily", "silently",  "briskly",
      "gladly"};
  return list;
}

const std::vector<std::string>& times() {
  static const std::vector<std::string> list = {
      "morning",  "evening", "night",     "day",    "week",    "month",     "year",     "winter",
      "summer",   "spring",  "autumn",    "monday", "tuesday", "wednesday", "thursday", "friday",
      "saturday", "sunday",  "afternoon", "noon",   "dawn",    "dusk"};
  return list;
}

const std::vector<std::string>& task_words() {
  static const std::vector<std::string> list = {
      "special", "number", "fact",  "belongs",  "forget",  "among",   "notes",  "question",
      "answer",  "record", "says",  "list",     "entry",   "private", "digits", "written",
      "color",   "see",    "lies",  "sits",     "find",    "went",    "gave",   "handed",
      "passed",  "threw",  "later", "got",      "offered", "tossed",  "into",   "walked",
      "reached", "were",   "mind",  "remember", "told",    "secret",  "let",    "note"};
  return list;
}

}  // namespace headscope::words
