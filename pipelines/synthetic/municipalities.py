"""The 98 Danish municipalities (kommuner since 2007): code, name, region and approximate population.

Populations are rounded 2020 figures in thousands (Statistics Denmark, FOLK1A), used only to
allocate synthetic persons; the kontanthjælp intensity (``kh_index``) raises the share of
recipients in municipalities known for many recipients (Copenhagen, Lolland, the western suburbs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# (code, name, region, population in thousands, kh_index: relative KH rate per inhabitant)
MUNICIPALITIES: tuple[tuple[int, str, str, float, float], ...] = (
    (101, "København", "hovedstaden", 640, 0.9),
    (147, "Frederiksberg", "hovedstaden", 104, 0.85),
    (151, "Ballerup", "hovedstaden", 48, 1.0),
    (153, "Brøndby", "hovedstaden", 35, 1.6),
    (155, "Dragør", "hovedstaden", 14, 0.5),
    (157, "Gentofte", "hovedstaden", 75, 0.4),
    (159, "Gladsaxe", "hovedstaden", 69, 0.85),
    (161, "Glostrup", "hovedstaden", 23, 1.1),
    (163, "Herlev", "hovedstaden", 29, 1.0),
    (165, "Albertslund", "hovedstaden", 28, 1.5),
    (167, "Hvidovre", "hovedstaden", 53, 1.15),
    (169, "Høje-Taastrup", "hovedstaden", 51, 1.3),
    (173, "Lyngby-Taarbæk", "hovedstaden", 56, 0.5),
    (175, "Rødovre", "hovedstaden", 40, 1.15),
    (183, "Ishøj", "hovedstaden", 23, 1.7),
    (185, "Tårnby", "hovedstaden", 43, 0.9),
    (187, "Vallensbæk", "hovedstaden", 17, 0.8),
    (190, "Furesø", "hovedstaden", 41, 0.6),
    (201, "Allerød", "hovedstaden", 26, 0.45),
    (210, "Fredensborg", "hovedstaden", 41, 0.85),
    (217, "Helsingør", "hovedstaden", 63, 1.0),
    (219, "Hillerød", "hovedstaden", 51, 0.75),
    (223, "Hørsholm", "hovedstaden", 25, 0.45),
    (230, "Rudersdal", "hovedstaden", 57, 0.35),
    (240, "Egedal", "hovedstaden", 44, 0.5),
    (250, "Frederikssund", "hovedstaden", 45, 0.85),
    (260, "Halsnæs", "hovedstaden", 31, 1.15),
    (270, "Gribskov", "hovedstaden", 41, 0.75),
    (400, "Bornholm", "hovedstaden", 39, 1.2),
    (253, "Greve", "sjaelland", 50, 0.8),
    (259, "Køge", "sjaelland", 61, 0.95),
    (265, "Roskilde", "sjaelland", 88, 0.75),
    (269, "Solrød", "sjaelland", 23, 0.55),
    (306, "Odsherred", "sjaelland", 33, 1.3),
    (316, "Holbæk", "sjaelland", 72, 1.1),
    (320, "Faxe", "sjaelland", 37, 1.0),
    (326, "Kalundborg", "sjaelland", 49, 1.2),
    (329, "Ringsted", "sjaelland", 35, 1.1),
    (330, "Slagelse", "sjaelland", 79, 1.6),
    (336, "Stevns", "sjaelland", 23, 0.8),
    (340, "Sorø", "sjaelland", 30, 0.9),
    (350, "Lejre", "sjaelland", 28, 0.55),
    (360, "Lolland", "sjaelland", 41, 1.7),
    (370, "Næstved", "sjaelland", 83, 1.15),
    (376, "Guldborgsund", "sjaelland", 61, 1.35),
    (390, "Vordingborg", "sjaelland", 46, 1.15),
    (410, "Middelfart", "syddanmark", 39, 0.75),
    (420, "Assens", "syddanmark", 41, 0.9),
    (430, "Faaborg-Midtfyn", "syddanmark", 51, 0.9),
    (440, "Kerteminde", "syddanmark", 24, 0.9),
    (450, "Nyborg", "syddanmark", 32, 1.0),
    (461, "Odense", "syddanmark", 205, 1.35),
    (479, "Svendborg", "syddanmark", 59, 1.15),
    (480, "Nordfyns", "syddanmark", 29, 0.95),
    (482, "Langeland", "syddanmark", 12, 1.35),
    (492, "Ærø", "syddanmark", 6, 1.0),
    (510, "Haderslev", "syddanmark", 56, 1.0),
    (530, "Billund", "syddanmark", 27, 0.7),
    (540, "Sønderborg", "syddanmark", 74, 1.0),
    (550, "Tønder", "syddanmark", 37, 0.9),
    (561, "Esbjerg", "syddanmark", 116, 1.15),
    (563, "Fanø", "syddanmark", 3.5, 0.7),
    (573, "Varde", "syddanmark", 50, 0.75),
    (575, "Vejen", "syddanmark", 43, 0.85),
    (580, "Aabenraa", "syddanmark", 59, 1.05),
    (607, "Fredericia", "syddanmark", 51, 1.15),
    (621, "Kolding", "syddanmark", 93, 0.95),
    (630, "Vejle", "syddanmark", 116, 0.85),
    (615, "Horsens", "midtjylland", 93, 1.0),
    (657, "Herning", "midtjylland", 89, 0.85),
    (661, "Holstebro", "midtjylland", 59, 0.85),
    (665, "Lemvig", "midtjylland", 20, 0.65),
    (671, "Struer", "midtjylland", 21, 0.85),
    (706, "Syddjurs", "midtjylland", 42, 0.75),
    (707, "Norddjurs", "midtjylland", 37, 1.15),
    (710, "Favrskov", "midtjylland", 48, 0.5),
    (727, "Odder", "midtjylland", 23, 0.6),
    (730, "Randers", "midtjylland", 98, 1.15),
    (740, "Silkeborg", "midtjylland", 95, 0.8),
    (741, "Samsø", "midtjylland", 3.7, 0.8),
    (746, "Skanderborg", "midtjylland", 62, 0.5),
    (751, "Aarhus", "midtjylland", 350, 1.0),
    (756, "Ikast-Brande", "midtjylland", 41, 0.8),
    (760, "Ringkøbing-Skjern", "midtjylland", 56, 0.55),
    (766, "Hedensted", "midtjylland", 47, 0.6),
    (779, "Skive", "midtjylland", 46, 0.9),
    (791, "Viborg", "midtjylland", 97, 0.8),
    (773, "Morsø", "nordjylland", 20, 1.0),
    (787, "Thisted", "nordjylland", 43, 0.8),
    (810, "Brønderslev", "nordjylland", 36, 0.85),
    (813, "Frederikshavn", "nordjylland", 59, 1.15),
    (820, "Vesthimmerlands", "nordjylland", 36, 1.0),
    (825, "Læsø", "nordjylland", 1.8, 0.9),
    (840, "Rebild", "nordjylland", 30, 0.7),
    (846, "Mariagerfjord", "nordjylland", 42, 0.95),
    (849, "Jammerbugt", "nordjylland", 38, 0.85),
    (851, "Aalborg", "nordjylland", 218, 1.1),
    (860, "Hjørring", "nordjylland", 64, 1.05),
)

COPENHAGEN = 101
SLAGELSE = 330


def municipality_frame() -> pd.DataFrame:
    """All municipalities as a frame (municipality_id, name, region, population_k, kh_index),
    sorted by code."""
    df = pd.DataFrame(
        MUNICIPALITIES, columns=["municipality_id", "name", "region", "population_k", "kh_index"]
    )
    return df.sort_values("municipality_id", kind="mergesort").reset_index(drop=True)


def kh_weights() -> np.ndarray:
    """Relative share of kontanthjælp recipients per municipality (sums to 1), in code order."""
    df = municipality_frame()
    w = df["population_k"].to_numpy() * df["kh_index"].to_numpy()
    return w / w.sum()
