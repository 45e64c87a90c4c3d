"""UK name, street and place lists for the synthetic population.

Given names are listed by sex and birth era, most common first (after ONS baby-name
rankings and older census frequencies); surnames are the commonest surnames in England
and Wales, most common first. Sampling weights fall off as ``1 / rank**0.9``, which
gives the long tail and the very common names ("John Smith", "Margaret Smith") that
record linkage has to cope with.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).resolve().parents[1] / "reference"

#: (first birth year of the era, names) — the era runs until the next entry's year.
GIVEN_MALE: list[tuple[int, list[str]]] = [
    (
        1900,
        "John William George Thomas James Arthur Frederick Albert Charles Robert Joseph Harold Ernest Alfred Walter Henry Frank Leonard Stanley Edward Kenneth Dennis Jack Herbert Sidney Reginald Cyril Norman Ronald Eric Leslie Donald Raymond Francis Samuel Victor Gordon Bernard Douglas Percy Cecil Wilfred Horace Clifford Edwin Harry Richard Peter Geoffrey Gerald".split(),
    ),
    (
        1945,
        "David John Michael Peter Robert Paul Stephen Richard Christopher Anthony Alan Keith Brian Ian Graham Kevin Terence Colin Geoffrey Malcolm Barry Roger Trevor Philip William James Thomas Martin Andrew Kenneth Raymond Derek Gary Dennis Ronald Roy Nigel Gordon Patrick Leslie Steven Tony Frank Stuart Neil Clive Adrian Howard Dennis Charles".split(),
    ),
    (
        1965,
        "David Paul Mark Andrew Michael Stephen Richard Ian Christopher Robert John Darren Lee Jason Neil Craig Gary Martin Simon Peter Anthony Matthew James Jonathan Steven Wayne Dean Shaun Carl Kevin Scott Philip Nicholas Timothy Daniel Stuart Adam Graham Russell Jeremy Alan Dominic Glenn Gareth Justin Thomas Julian Karl Barry Colin".split(),
    ),
    (
        1985,
        "James Daniel Thomas Christopher Matthew Michael David Adam Luke Jack Ryan Joshua Samuel Benjamin Andrew Jamie Robert Liam Jonathan Nathan Ashley Craig Richard Mark Lewis Alexander Joseph Callum Jordan Kieran Scott Dean Lee Aaron Connor William Sean Stephen Oliver Harry Tom George Jake Bradley Marcus Gareth Reece Steven Edward Paul".split(),
    ),
    (
        2005,
        "Oliver Jack Harry George Noah Charlie Jacob Alfie Freddie Oscar Leo Thomas William James Joshua Archie Henry Theo Arthur Ethan Logan Isaac Max Lucas Mason Riley Joseph Samuel Daniel Alexander Teddy Finley Dylan Harrison Edward Tommy Jude Louie Reuben Sebastian Hugo Albie Elijah Ronnie Rory Toby Jenson Frankie Luca Benjamin".split(),
    ),
]
GIVEN_FEMALE: list[tuple[int, list[str]]] = [
    (
        1900,
        "Margaret Mary Dorothy Doris Joan Joyce Irene Elizabeth Kathleen Edna Florence Ivy Lilian Winifred Gladys Hilda Elsie Edith Violet Marjorie Annie Ethel Betty Phyllis Vera Jean Eileen Evelyn Muriel Olive Alice Audrey Barbara Beatrice Mabel Nellie Rose Sarah Ada Jessie Emily Hannah Ellen Constance Freda Ann Iris Grace Mildred Agnes".split(),
    ),
    (
        1945,
        "Susan Linda Christine Margaret Janet Patricia Carol Elizabeth Mary Anne Jacqueline Gillian Pamela Valerie Sandra Jean Barbara Pauline Maureen Sheila Brenda Diane Kathleen Wendy Carole Lesley Julie Angela Judith Shirley Elaine Marilyn Jennifer Ann Helen Lynne Denise Hazel Rosemary Kathryn Alison Beverley Sylvia Marion Catherine Vivienne Frances Josephine Yvonne Joan".split(),
    ),
    (
        1965,
        "Sarah Julie Karen Susan Lisa Nicola Helen Amanda Tracey Claire Deborah Joanne Michelle Alison Jacqueline Rachel Elizabeth Catherine Angela Emma Louise Kelly Sharon Dawn Samantha Donna Caroline Victoria Wendy Debbie Andrea Joanna Jane Zoe Kerry Lynn Mandy Kate Jennifer Diane Gillian Maria Anna Natalie Paula Ruth Clare Fiona Melanie Janet".split(),
    ),
    (
        1985,
        "Sarah Laura Emma Gemma Rebecca Amy Jessica Hannah Charlotte Lauren Stacey Kirsty Lucy Rachel Katie Samantha Danielle Amanda Jennifer Nicola Sophie Natalie Victoria Zoe Chloe Hayley Claire Kelly Jade Emily Louise Leanne Holly Bethany Megan Georgia Alice Catherine Elizabeth Naomi Abigail Kayleigh Eleanor Stephanie Jodie Kimberley Amber Alexandra Lisa Michelle".split(),
    ),
    (
        2005,
        "Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Lily Evie Isabella Sophie Ivy Freya Harper Willow Isabelle Daisy Florence Charlotte Sienna Phoebe Millie Evelyn Matilda Rosie Alice Elsie Emma Jessica Ruby Scarlett Lucy Erin Esme Eliza Maisie Layla Imogen Molly Thea Chloe Bella Holly Ellie Hannah Zara Maya".split(),
    ),
]

#: Commonest surnames in England and Wales, most common first.
SURNAMES = """
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson
Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner
Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott
Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson
Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams
Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell
Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens
Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews
Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson
Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells
Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page
Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson
Newton Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry
Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton
Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss
McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle
Wallace George Jordan Hutchinson Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles
Stevenson Stephenson Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan
Whitehead Mann Frost Lambert Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham
Quinn Barnett Baxter Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher Bond Stokes
Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French Stanley Jarvis Gibbs Ferguson
Hayward Carroll Atkins Kirk Redfern Bagshaw Wragg Marples Slack Bown Greaves Hollingworth
""".split()

#: South Asian and Polish given names / surnames, used for people with those languages
#: or ethnic groups so interpreter needs look plausible.
ASIAN_GIVEN_MALE = "Mohammed Muhammad Ali Imran Asif Tariq Amir Hassan Rajesh Sanjay Amit Harjit Gurpreet Sunil Vijay Arjun Rohan Zain Bilal Usman".split()
ASIAN_GIVEN_FEMALE = "Fatima Aisha Nasreen Shazia Parveen Samina Priya Anjali Sunita Harpreet Manjit Kiran Amrit Nadia Ayesha Zainab Sana Meena Rupinder Sadia".split()
ASIAN_SURNAMES = "Khan Patel Hussain Ahmed Ali Begum Akhtar Singh Kaur Shah Iqbal Mahmood Rahman Sharma Kumar Bibi Malik Aslam Islam Chaudhry".split()
POLISH_GIVEN_MALE = (
    "Piotr Krzysztof Tomasz Andrzej Pawel Marcin Michal Jakub Lukasz Grzegorz".split()
)
POLISH_GIVEN_FEMALE = (
    "Anna Katarzyna Malgorzata Agnieszka Barbara Ewa Magdalena Joanna Monika Zofia".split()
)
POLISH_SURNAMES = "Nowak Kowalski Wisniewski Wojcik Kowalczyk Kaminski Lewandowski Zielinski Szymanski Wozniak".split()

STREET_STEMS = """
Church Station Park Victoria Green Manor Chapel Mill School Queen King Albert Alexandra
Derby Chesterfield Nottingham Ashbourne Matlock Buxton Belper Market Bridge North South
West East High New Oak Elm Ash Beech Birch Willow Hawthorn Meadow Orchard Grange Hall
Cromford Darwin Stephenson Arkwright Strutt Devonshire Cavendish Rutland Portland
Moorland Hillside Brookside Springfield Highfield Fairfield Westfield Kedleston Chatsworth
Haddon Hardwick Bolsover Dovedale Derwent Trent Amber Wye Rother Hipper Erewash Mease
Windmill Sandy Cross Well Castle Abbey Priory Farm Spring Lime Cedar Poplar Holly Rowan
""".split()
STREET_TYPES = "Street Road Lane Avenue Close Drive Way Crescent Grove Gardens Place Terrace Court View Rise".split()
STREET_TYPE_WEIGHTS = [16, 16, 10, 8, 9, 7, 4, 4, 3, 3, 2, 3, 2, 2, 2]

#: Main towns for each postcode district.
TOWNS: dict[str, list[str]] = {
    "DE1": ["Derby"], "DE3": ["Mickleover", "Littleover"], "DE21": ["Chaddesden", "Oakwood"],
    "DE22": ["Derby", "Allestree"], "DE23": ["Normanton", "Littleover"], "DE24": ["Alvaston", "Allenton"],
    "DE4": ["Matlock", "Wirksworth", "Darley Dale", "Cromford"], "DE5": ["Ripley", "Codnor"],
    "DE6": ["Ashbourne", "Doveridge", "Hulland Ward"], "DE7": ["Ilkeston", "West Hallam"],
    "DE11": ["Swadlincote", "Woodville", "Church Gresley"], "DE12": ["Overseal", "Linton"],
    "DE45": ["Bakewell", "Youlgreave"], "DE55": ["Alfreton", "Somercotes", "South Normanton"],
    "DE56": ["Belper", "Duffield", "Heage"], "DE65": ["Hilton", "Etwall", "Willington"],
    "DE72": ["Borrowash", "Draycott", "Ockbrook"], "DE73": ["Melbourne", "Chellaston", "Aston-on-Trent"],
    "DE75": ["Heanor", "Loscoe"], "NG10": ["Long Eaton", "Sawley", "Sandiacre"],
    "NG16": ["Langley Mill", "Aldercar"], "NG19": ["Pleasley"], "NG20": ["Shirebrook", "Langwith"],
    "S18": ["Dronfield", "Coal Aston"], "S21": ["Eckington", "Killamarsh"], "S32": ["Hathersage", "Grindleford"],
    "S33": ["Hope", "Castleton", "Bradwell"], "S40": ["Chesterfield", "Brampton"],
    "S41": ["Chesterfield", "Newbold", "Whittington Moor"], "S42": ["Holymoorside", "Wingerworth", "Grassmoor"],
    "S43": ["Staveley", "Barlborough", "Brimington"], "S44": ["Bolsover", "Clowne"],
    "S45": ["Clay Cross", "North Wingfield"], "S80": ["Whitwell"], "SK13": ["Glossop", "Hadfield"],
    "SK17": ["Buxton", "Chinley"], "SK22": ["New Mills", "Hayfield"], "SK23": ["Chapel-en-le-Frith", "Whaley Bridge"],
}  # fmt: skip

#: Resident population weights by local authority district (ONS mid-year, rounded, 000s);
#: Derby City is weighted down because DCC does not serve it and DCHS only partly.
DISTRICT_WEIGHTS = {
    "Amber Valley": 128, "Bolsover": 81, "Chesterfield": 104, "Derbyshire Dales": 72,
    "Erewash": 113, "High Peak": 91, "North East Derbyshire": 102, "South Derbyshire": 107,
    "Derby City": 120,
}  # fmt: skip


@cache
def postcode_districts() -> list[tuple[str, str]]:
    with (REFERENCE / "postcode_districts.csv").open(newline="", encoding="utf-8") as fh:
        return [(r["postcode_district"], r["la_district"]) for r in csv.DictReader(fh)]


@cache
def la_districts() -> list[tuple[str, str, bool]]:
    """(ONS district code, district name, in Derbyshire County) from ``la_districts.csv``."""
    with (REFERENCE / "la_districts.csv").open(newline="", encoding="utf-8") as fh:
        return [
            (r["district_code"], r["district_name"], r["in_county"] == "Y")
            for r in csv.DictReader(fh)
        ]


@cache
def nicknames() -> dict[str, list[str]]:
    """canonical name -> its nicknames, from ``transforms/reference/nicknames.csv``."""
    out: dict[str, list[str]] = {}
    with (REFERENCE / "nicknames.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["canonical"], []).append(row["nickname"])
    return out


def zipf_weights(n: int, power: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** power
    return w / w.sum()
