"""Scale: import and list 10k, 100k and 1M tickets on SQLite and PostgreSQL, over HTTP.

Tickets are generated (seeded, so every run sees the same ones): French and English, from
varied templates and vocabulary across IT, HR, Finance, Facilities and Legal, with statuses
that follow the ticket's age, skewed priorities, a few agents and many unassigned tickets,
created over three years (growing volume, office hours), each with a unique external_id.
The CSV is written once per size into a temporary folder.

For each engine and size: a fresh database, `ticketbot import --keep-labels --json` (its
tickets/s; goal >= 20,000/s), then priority, assignee and needs_review, which the import does
not carry, set directly in SQL; then `ticketbot serve` (1 worker) and, over HTTP with one
keep-alive session, each query shape of GET /tickets many times with varied values. Every
answer is checked (status 200, the number of items, the total, each item matching the
filters and the words, the order). Reported: p50 and p99 per shape and size (goal p50 <= 20
ms, p99 <= 50 ms; figures over the goal in bold), import speed, database size on disk, and
how each cost grows with the number of tickets.

    python -m bench.scale [--sizes 10000,100000,1000000] [--engines sqlite,postgresql]
        [--requests 200] [--max-seconds 30] [--no-record] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.api_throughput import (
    DEFAULT_POSTGRES,
    TICKETBOT,
    Server,
    create_key,
    free_port,
    machine_busy_seconds,
    postgres_unreachable,
    scratch_database,
    tree_cpu_seconds,
)
from bench.common import REPO, bench_parser, percentile, record
from ticketbot.api.listing import TOTAL_CAP  # GET /tickets counts exactly up to this many
from ticketbot.api.search import words

SIZES = (10_000, 100_000, 1_000_000)
ENGINES = ("sqlite", "postgresql")
PAGE = 20
GOAL_P50, GOAL_P99 = 20.0, 50.0  # ms
GOAL_IMPORT = 20_000  # tickets/s
DEEP = 0.9  # the keyset and offset pages start at 90% of the list
SEED = 2024
END = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # the newest ticket's day ("now")
SPAN_DAYS = 3 * 365

# -- vocabulary -------------------------------------------------------------------------------

FIRST_NAMES = (
    "Marie Thomas Camille Nicolas Julie Antoine Sarah Julien Laura Pierre Emma Lucas Léa "
    "Hugo Chloé Maxime Inès Mehdi Sophie Karim Claire Paul Manon Romain Alice Yasmine "
    "Mathieu Elodie Olivier Nadia John Emily David Rachel Mark Priya James Hannah Daniel "
    "Fatou Kevin Aurélie Sébastien Noémie Bastien Océane Quentin Amandine Rémi Gaëlle Samir "
    "Lina Florian Agathe Tristan Margaux Adrien Pauline Benoît Solène"
).split()
SURNAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
    "Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier "
    "Dupont Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin "
    "Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez "
    "Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen Boyer Denis Lemaire Duval Joly "
    "Gautier Roger Roche Roy Noël Meyer Lucas Meunier Jean Perez Marchand Dufour Blanchard "
    "Marie Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez Pierre Renard Arnaud "
    "Rolland Caron Aubert Giraud Leclerc Vidal Bourgeois Renaud Lemoine Picard Gaillard "
    "Philippe Leclercq Lacroix Fabre Dupuis Olivier Rodriguez Da Silva Hubert Louis Charles "
    "Guillot Rivière Le Gall Guillaume Adam Rey Moulin Gonzalez Berger Lecomte Menard "
    "Fleury Deschamps Carpentier Julien Benoit Paris Maillard Marchal Aubry Vasseur Le Roux "
    "Renault Jacquet Collet Prévost Poirier Charpentier Royer Huet Baron Dupuy Pons Paul "
    "Laine Carré Breton Rémy Schneider Perrot Guyot Barre Marty Cousin Smith Johnson Patel "
    "O'Brien Kowalski Haddad Benali Traoré Diallo Okafor Tanaka Andersson Novak Rossi"
).split()
SUPPLIERS = (
    "Dell Lenovo Orange Bouygues Sodexo Manutan Ricoh Canon Xerox Schindler Otis Engie "
    "Dalkia Veolia Atos Capgemini Sopra Econocom Bureau Vallée Lyreco Office Depot Elior "
    "Onet Samsic Iss Spie Vinci Eiffage Cofely Axa Allianz Malakoff Humanis Swile Edenred "
    "Sodexo Pluxee Alan Payfit Lucca Workday Adecco Manpower Randstad Hays Michael Page "
    "Deloitte Mazars Fidal Grant Thornton Salesforce Oracle Microsoft Google Adobe Cisco "
    "Fortinet Sophos Kaspersky Zscaler Okta Atlassian Zendesk Freshdesk Sage Cegid Qonto "
    "Ulysse Amex Europcar Hertz Sixt Uber Blablacar Accor Ibis Novotel Amazon Fnac Darty "
    "Boulanger Cdiscount Rexel Sonepar Legrand Schneider Hager Somfy Daikin Carrier Airwell "
    "Atlantic Bosch Siemens Honeywell Securitas Prosegur Brinks Chronopost Colissimo DHL "
    "Fedex UPS Geodis Kuehne Arvato Teleperformance Webhelp Ovh Scaleway Ionos Gandi "
    "Docusign Yousign Legalstart Lexisnexis Dalloz Lefebvre Wolters Kluwer Infogreffe"
).split()
CITIES = (
    "Paris Lyon Marseille Toulouse Nice Nantes Strasbourg Montpellier Bordeaux Lille Rennes "
    "Reims Toulon Grenoble Dijon Angers Nîmes Brest Tours Amiens Limoges Clermont Annecy "
    "Perpignan Metz Besançon Orléans Rouen Mulhouse Caen Nancy Avignon Poitiers Pau Bayonne "
    "Brussels London Geneva Madrid Milan Berlin Munich Amsterdam Lisbon Dublin Barcelona "
    "Zurich Luxembourg Frankfurt Vienna Prague Warsaw Stockholm Copenhagen Oslo Montreal"
).split()
SOFTWARE = (
    "Photoshop AutoCAD Python Tableau Visio Zoom Slack Acrobat PowerBI Notepad++ VLC 7-Zip "
    "Git Docker MATLAB SolidWorks Illustrator InDesign Figma Jira Confluence Postman "
    "DBeaver Anaconda RStudio SPSS Citrix Webex Chrome Firefox KeePass Thunderbird"
).split()
TEAMS = "ventes support data marketing achats logistique compta juridique RH R&D paie qualité"
TEAMS_LIST = TEAMS.split()
TRAININGS = (
    "Excel|management|sécurité incendie|anglais|premiers secours|Python|prise de parole|"
    "RGPD|gestion du temps|négociation"
).split("|")
SHARES = "commun sales compta marketing projets direction qualite archives rh".split()
ERRORS = "809 720 691 403 500 1603 0x80070005 0x800ccc0e 0xc000021a 0x8024402c 619".split()
MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre "
    "décembre".split(),
    "en": "January February March April May June July August September October November "
    "December".split(),
}
WEEKDAYS = {
    "fr": "lundi mardi mercredi jeudi vendredi".split(),
    "en": "Monday Tuesday Wednesday Thursday Friday".split(),
}
_SYLLABLES = "ka lo mi ra to ne su vi da pe zo ri ta mo li xe bu fa go ny".split()


def _project_names() -> list[str]:
    """Project code names: a few well known, a long tail of rare ones (words for "rare")."""
    rng = random.Random(7)
    names = "Saturne Orion Phoenix Atlas Hermes Pegase Nova Titan Zephyr Helios".split()
    seen = {n.lower() for n in names}
    while len(names) < 400:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(3, 4))).capitalize()
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


PROJECTS = _project_names()


@dataclass(frozen=True)
class Department:
    weight: float
    objects: list[tuple[str, str]]  # (French, English) noun phrases
    problems: list[tuple[str, str]]  # what goes wrong with any of the objects
    requests: list[tuple[str, str]]  # whole titles of requests
    details: list[tuple[str, str]]  # sentences of descriptions


DEPARTMENTS: dict[str, Department] = {
    "IT": Department(
        0.38,
        [
            ("l'imprimante du {floor}e étage", "the printer on floor {floor}"),
            ("le VPN", "the VPN"),
            ("mon ordinateur portable", "my laptop"),
            ("mon écran externe", "my external monitor"),
            ("Outlook", "Outlook"),
            ("Teams", "Teams"),
            ("le Wi-Fi", "the Wi-Fi"),
            ("ma station d'accueil", "my docking station"),
            ("le scanner", "the scanner"),
            ("mon compte Windows", "my Windows account"),
            ("l'accès au partage {share}", "access to the {share} share"),
            ("Excel", "Excel"),
            ("SAP", "SAP"),
            ("mon téléphone professionnel", "my work phone"),
            ("la double authentification", "multi-factor authentication"),
            ("le clavier", "the keyboard"),
            ("la souris sans fil", "the wireless mouse"),
            ("{software}", "{software}"),
        ],
        [
            ("ne fonctionne plus", "stopped working"),
            ("affiche une erreur", "shows an error"),
            ("rame énormément", "is very slow"),
            ("ne démarre plus", "won't start"),
            ("se déconnecte sans arrêt", "keeps disconnecting"),
            ("plante au démarrage", "crashes on start-up"),
            ("refuse mon mot de passe", "rejects my password"),
            ("est en panne", "is down"),
            ("ne répond plus", "is not responding"),
            ("ne se synchronise plus", "no longer syncs"),
        ],
        [
            ("Installation de {software} sur mon poste", "Please install {software} on my laptop"),
            (
                "Nouveau poste pour {person} qui arrive lundi",
                "New laptop for {person} starting Monday",
            ),
            ("Réinitialisation de mon mot de passe", "Password reset needed"),
            ("Accès au partage {share}", "Access to the {share} share"),
            ("Demande de clé USB chiffrée", "Encrypted USB stick request"),
            ("Compte pour un prestataire {supplier}", "Account for a {supplier} contractor"),
        ],
        [
            ("Le message affiché est « erreur {error} ».", 'The message says "error {error}".'),
            ("Mon poste est le PC-{asset}.", "My computer is PC-{asset}."),
            ("J'ai déjà redémarré {n} fois, sans succès.", "I already restarted {n} times."),
            (
                "{k} collègues de l'équipe {team} ont le même problème.",
                "{k} colleagues in the {team} team have the same issue.",
            ),
            (
                "Ça a commencé après la mise à jour de {weekday}.",
                "It started after {weekday}'s update.",
            ),
            (
                "Je travaille sur le projet {project} et j'ai une démo à {hour}h.",
                "I work on project {project} and have a demo at {hour}:00.",
            ),
        ],
    ),
    "HR": Department(
        0.15,
        [
            ("ma fiche de paie de {month}", "my {month} payslip"),
            ("mon solde de congés", "my leave balance"),
            ("ma demande de télétravail", "my remote work request"),
            ("mon attestation employeur", "my employment certificate"),
            ("mon avenant au contrat", "my contract amendment"),
            ("mon adhésion à la mutuelle", "my health insurance enrolment"),
            ("le paiement de mes heures supplémentaires", "my overtime pay"),
            ("ma carte de tickets restaurant", "my meal voucher card"),
            ("mon entretien annuel", "my annual review"),
            (
                "mon inscription à la formation {training}",
                "my registration for {training} training",
            ),
            ("ma déclaration d'arrêt maladie", "my sick leave notice"),
            ("mon congé parental", "my parental leave"),
        ],
        [
            ("comporte une erreur", "has a mistake"),
            ("reste en attente de validation", "is still awaiting approval"),
            ("n'apparaît pas dans l'outil RH", "does not show in the HR portal"),
            ("reste sans réponse depuis {n} semaines", "has had no answer for {n} weeks"),
            ("affiche un montant inattendu", "shows an unexpected amount"),
            ("ne correspond pas à mon contrat", "does not match my contract"),
        ],
        [
            ("Demande d'attestation employeur", "Employment certificate request"),
            ("Question sur la mutuelle", "Question about health insurance"),
            ("Demande de congés du {date} au {date2}", "Leave request from {date} to {date2}"),
            ("Demande de jours de télétravail", "Remote work days request"),
            (
                "Arrivée de {person} : préparation du contrat",
                "New hire {person}: contract to prepare",
            ),
            ("Changement d'adresse et de RIB", "Change of address and bank details"),
        ],
        [
            ("Mon matricule est {employee}.", "My employee number is {employee}."),
            ("Mon manager {person} a déjà validé.", "My manager {person} already approved it."),
            (
                "Il manque {n} jours par rapport à mon calcul.",
                "{n} days are missing from my count.",
            ),
            ("Le montant attendu était de {amount} €.", "I expected {amount} EUR."),
            ("Cela concerne la période de {month}.", "This is about {month}."),
            ("J'ai joint le justificatif demandé.", "The requested document is attached."),
        ],
    ),
    "Finance": Department(
        0.15,
        [
            ("ma note de frais de {month}", "my {month} expense report"),
            ("la facture {invoice}", "invoice {invoice}"),
            ("le bon de commande {po}", "purchase order {po}"),
            ("le remboursement de mon abonnement transport", "my travel pass refund"),
            ("le paiement du fournisseur {supplier}", "the payment to {supplier}"),
            ("le budget formation de l'équipe {team}", "the {team} team's training budget"),
            ("ma carte affaires", "my corporate card"),
            ("l'avance sur frais pour {city}", "the travel advance for {city}"),
            ("le virement de {supplier}", "the transfer from {supplier}"),
            ("la clôture comptable de {month}", "the {month} closing"),
        ],
        [
            ("reste en attente de validation", "is still awaiting approval"),
            ("comporte une erreur de TVA", "has a VAT error"),
            ("affiche un montant inattendu", "shows an unexpected amount"),
            ("est en retard de paiement", "is overdue"),
            ("reste sans suite", "got no follow-up"),
            ("bloque dans le workflow", "is stuck in the workflow"),
        ],
        [
            ("Création du fournisseur {supplier}", "New supplier setup: {supplier}"),
            ("Bon de commande pour {n} ordinateurs", "Purchase order for {n} laptops"),
            ("Validation du budget {project}", "Budget approval for {project}"),
            ("Remboursement d'un déplacement à {city}", "Refund of a trip to {city}"),
            ("Plafond de ma carte affaires", "Corporate card limit"),
        ],
        [
            ("Le montant est de {amount} €.", "The amount is {amount} EUR."),
            ("La référence est {invoice}.", "The reference is {invoice}."),
            (
                "Le fournisseur {supplier} nous relance depuis {n} semaines.",
                "{supplier} has been chasing us for {n} weeks.",
            ),
            ("Le centre de coût est {cost_center}.", "The cost centre is {cost_center}."),
            (
                "Les justificatifs sont dans l'outil de notes de frais.",
                "The receipts are in the expenses tool.",
            ),
            ("Le déplacement à {city} a eu lieu le {date}.", "The trip to {city} was on {date}."),
        ],
    ),
    "Facilities": Department(
        0.22,
        [
            ("le chauffage de la salle {room}", "the heating in room {room}"),
            ("la climatisation du {floor}e étage", "the air conditioning on floor {floor}"),
            ("l'ascenseur du bâtiment {building}", "the lift in building {building}"),
            ("la machine à café", "the coffee machine"),
            ("mon badge d'accès", "my access badge"),
            ("la porte du parking", "the car park gate"),
            ("l'éclairage du couloir", "the corridor lights"),
            ("la chasse d'eau du {floor}e étage", "the toilet flush on floor {floor}"),
            ("le store de mon bureau", "the blind in my office"),
            ("ma chaise de bureau", "my office chair"),
            ("la fenêtre de la salle {room}", "the window in room {room}"),
            ("le distributeur de boissons", "the vending machine"),
            ("la réservation de la salle {room}", "the booking of room {room}"),
        ],
        [
            ("ne fonctionne plus", "is not working"),
            ("est en panne", "is broken"),
            ("fait un bruit bizarre", "makes a strange noise"),
            ("fuit", "is leaking"),
            ("ne répond plus", "is not responding"),
            ("s'arrête tout seul", "keeps switching off"),
        ],
        [
            (
                "Déménagement de l'équipe {team} au {floor}e étage",
                "Moving the {team} team to floor {floor}",
            ),
            ("Demande de badge pour {person}", "Badge request for {person}"),
            ("Réservation d'une salle pour {k} personnes", "Room for {k} people needed"),
            ("Demande d'un bureau réglable", "Standing desk request"),
            (
                "Place de parking pour un visiteur de {supplier}",
                "Parking space for a {supplier} visitor",
            ),
        ],
        [
            (
                "C'est dans la salle {room} du bâtiment {building}.",
                "It is in room {room}, building {building}.",
            ),
            ("Il fait {temp} degrés dans le bureau.", "It is {temp} degrees in the office."),
            ("Nous recevons {supplier} à {hour}h.", "We are meeting {supplier} at {hour}:00."),
            ("Le problème revient tous les {weekday}s.", "It happens again every {weekday}."),
            ("Quelqu'un a mis un seau en attendant.", "Someone put a bucket under it for now."),
            ("Le gardien est prévenu.", "Security has been told."),
        ],
    ),
    "Legal": Department(
        0.10,
        [
            ("le contrat avec {supplier}", "the contract with {supplier}"),
            ("l'accord de confidentialité avec {supplier}", "the NDA with {supplier}"),
            ("la clause de non-concurrence de {person}", "{person}'s non-compete clause"),
            ("la demande RGPD d'un client", "a customer's GDPR request"),
            ("le dépôt de la marque {project}", "the {project} trademark filing"),
            ("la mise à jour de nos CGV", "the update of our terms and conditions"),
            ("le litige avec {supplier}", "the dispute with {supplier}"),
            ("la mise en demeure de {supplier}", "the formal notice from {supplier}"),
            ("le bail des locaux de {city}", "the office lease in {city}"),
            ("la politique de cookies du site", "the website cookie policy"),
            ("le contrat de licence {software}", "the {software} licence agreement"),
        ],
        [
            ("doit être relu avant signature", "needs a review before signing"),
            ("soulève une question de responsabilité", "raises a liability question"),
            ("arrive à échéance le {date}", "expires on {date}"),
            ("nécessite un avis juridique", "needs legal advice"),
            ("attend la validation du service juridique", "is waiting for Legal's approval"),
            ("pose un problème de conformité", "raises a compliance issue"),
        ],
        [
            (
                "Relecture d'un contrat de prestation avec {supplier}",
                "Review of a services contract with {supplier}",
            ),
            ("Modèle d'accord de confidentialité", "NDA template needed"),
            ("Question sur le droit à l'image", "Question about image rights"),
            ("Procuration pour signer à {city}", "Power of attorney to sign in {city}"),
            ("Réponse à une demande d'accès RGPD", "Answering a GDPR access request"),
        ],
        [
            ("La signature est prévue le {date}.", "Signing is planned for {date}."),
            (
                "Le contrat porte sur {amount} € par an.",
                "The contract is worth {amount} EUR a year.",
            ),
            ("L'article {n} prévoit une pénalité de retard.", "Article {n} sets a late penalty."),
            (
                "Le client a envoyé sa demande le {date}.",
                "The customer sent the request on {date}.",
            ),
            (
                "{person} du service achats suit le dossier.",
                "{person} from purchasing follows the case.",
            ),
            ("Le délai de réponse est de {n} jours.", "We have {n} days to answer."),
        ],
    ),
}
TITLES = {
    "fr": [
        "{Obj} {pb}",
        "{Obj} {pb}",
        "Problème : {obj} {pb}",
        "{Obj} {pb} depuis {when}",
        "{Obj}",
    ],
    "en": ["{Obj} {pb}", "{Obj} {pb}", "Issue: {obj} {pb}", "{Obj} {pb} since {when}", "{Obj}"],
}
OPENINGS = {
    "fr": ["Bonjour,", "Bonjour,", "Bonjour à tous,", "Hello,", "Salut,", ""],
    "en": ["Hi,", "Hello,", "Hi team,", "Good morning,", ""],
}
CONTEXTS = {
    "fr": [
        "Depuis {when}, {obj} {pb}.",
        "{Obj} {pb} depuis {when}.",
        "Je vous écris car {obj} {pb}.",
    ],
    "en": [
        "Since {when}, {obj} {pb}.",
        "{Obj} {pb} since {when}.",
        "I am writing because {obj} {pb}.",
    ],
}
WHEN = {
    "fr": [
        "ce matin",
        "hier soir",
        "lundi",
        "la semaine dernière",
        "mon retour de congés",
        "deux jours",
    ],
    "en": [
        "this morning",
        "last night",
        "Monday",
        "last week",
        "I came back from leave",
        "Tuesday",
    ],
}
IMPACTS = {
    "fr": [
        "Je ne peux plus travailler.",
        "C'est bloquant pour toute l'équipe.",
        "Ce n'est pas urgent mais c'est gênant.",
        "Pouvez-vous regarder rapidement ?",
        "",
        "",
    ],
    "en": [
        "I cannot work at all.",
        "The whole team is blocked.",
        "Not urgent but annoying.",
        "Could you have a look soon?",
        "",
        "",
    ],
}
CLOSINGS = {
    "fr": ["Merci d'avance.", "Merci.", "Cordialement,", "Bonne journée,", ""],
    "en": ["Thanks in advance.", "Thanks.", "Best regards,", "Cheers,", ""],
}
STATUS_BY_AGE = [  # (days at most, weights of open, in_progress, resolved, closed)
    (2, (60, 30, 10, 0)),
    (14, (30, 35, 25, 10)),
    (60, (8, 12, 30, 50)),
    (math.inf, (1, 1, 8, 90)),
]
STATUSES = ("open", "in_progress", "resolved", "closed")
PRIORITIES, PRIORITY_WEIGHTS = ("low", "normal", "high", "urgent"), (15, 62, 18, 5)
AGENTS = {
    "IT": (("alice.martin", 5), ("bruno.lefebvre", 3), ("chloe.dubois", 2)),
    "HR": (("david.moreau", 1),),
    "Finance": (("emma.laurent", 3), ("ines.garcia", 1)),
    "Facilities": (("farid.benali", 2), ("gaelle.roux", 1)),
    "Legal": (("hugo.fontaine", 1),),
}
UNASSIGNED = {"open": 0.70, "in_progress": 0.03, "resolved": 0.25, "closed": 0.30}
NEEDS_REVIEW = {"open": 0.06, "in_progress": 0.06, "resolved": 0.01, "closed": 0.01}
HOURS = list(range(24))
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 12, 40, 70, 75, 65, 40, 55, 70, 65, 55, 35, 15, 6, 4, 3, 2, 1]

# Searches people type: topic words, and pairs of words (both in one ticket, or rarely).
SEARCH_WORDS = (
    "imprimante printer vpn outlook teams scanner excel badge chauffage heating ascenseur "
    "lift facture invoice frais expense contrat contract paie payslip conges leave mutuelle "
    "budget fournisseur clause rgpd gdpr litige dispute climatisation parking"
).split()
SEARCH_WORDS_DEPARTMENT = [
    ("imprimante", "IT"),
    ("vpn", "IT"),
    ("printer", "IT"),
    ("outlook", "IT"),
    ("facture", "Finance"),
    ("invoice", "Finance"),
    ("contrat", "Legal"),
    ("contract", "Legal"),
    ("badge", "Facilities"),
    ("heating", "Facilities"),
    ("paie", "HR"),
    ("payslip", "HR"),
]
SEARCH_PAIRS = [
    ("imprimante", "panne"),
    ("vpn", "erreur"),
    ("outlook", "plante"),
    ("printer", "error"),
    ("vpn", "error"),
    ("facture", "retard"),
    ("invoice", "overdue"),
    ("mot", "passe"),
    ("chauffage", "salle"),
    ("heating", "room"),
    ("contrat", "signature"),
    ("paie", "erreur"),
    ("badge", "parking"),
    ("note", "frais"),
    ("teams", "lent"),
    ("lift", "noise"),
]
NO_MATCH = "zqxv wyvernox quaffle xylograv brzmft snorkwix plumbix vortigaunt".split()


def _zipf(items: list[str], s: float = 1.1) -> tuple[list[str], list[float]]:
    """``items`` and cumulative weights: the first is the most frequent, a long tail."""
    cumulative, total = [], 0.0
    for rank in range(1, len(items) + 1):
        total += 1 / rank**s
        cumulative.append(total)
    return items, cumulative


_ZIPF = {
    "first": _zipf(FIRST_NAMES),
    "surname": _zipf(SURNAMES),
    "supplier": _zipf(SUPPLIERS),
    "city": _zipf(CITIES),
    "project": _zipf(PROJECTS, 1.2),
    "software": _zipf(SOFTWARE),
}


class Slots(dict):
    """The values of a ticket's template slots, drawn on first use and kept for the ticket."""

    def __init__(self, rng: random.Random, lang: str) -> None:
        super().__init__()
        self.rng, self.lang = rng, lang

    def pick(self, kind: str) -> str:
        items, cumulative = _ZIPF[kind]
        return self.rng.choices(items, cum_weights=cumulative)[0]

    def __missing__(self, name: str) -> str:
        rng, fr = self.rng, self.lang == "fr"
        if name in ("supplier", "city", "project", "software"):
            value = self.pick(name)
        elif name == "person":
            value = f"{self.pick('first')} {self.pick('surname')}"
        elif name == "first":
            value = self.pick("first")
        elif name == "floor":
            value = str(rng.randint(1, 9))
        elif name == "room":
            value = f"{rng.choice('ABCDEF')}{rng.randint(1, 40)}"
        elif name == "building":
            value = rng.choice("ABCDEF")
        elif name == "asset":
            value = str(rng.randint(10000, 99999))
        elif name == "error":
            value = rng.choice(ERRORS)
        elif name == "n":
            value = str(rng.randint(2, 5))
        elif name == "k":
            value = str(rng.randint(2, 12))
        elif name == "hour":
            value = str(rng.randint(9, 17))
        elif name == "temp":
            value = str(rng.choice([rng.randint(12, 17), rng.randint(27, 31)]))
        elif name in ("date", "date2"):
            month = rng.choice(MONTHS[self.lang])
            value = f"{rng.randint(1, 28)} {month}"
        elif name == "month":
            value = rng.choice(MONTHS[self.lang])
        elif name == "weekday":
            value = rng.choice(WEEKDAYS[self.lang])
        elif name == "invoice":
            value = f"{'FAC' if fr else 'INV'}-{rng.randint(2022, 2026)}-{rng.randint(1, 9999):04d}"
        elif name == "po":
            value = f"PO-{rng.randint(10000, 99999)}"
        elif name == "employee":
            value = f"M{rng.randint(10000, 99999)}"
        elif name == "cost_center":
            value = f"CC{rng.randint(100, 999)}"
        elif name == "amount":
            euros, cents = rng.randint(12, 48000), rng.randint(0, 99)
            value = f"{euros},{cents:02d}" if fr else f"{euros}.{cents:02d}"
        elif name == "team":
            value = rng.choice(TEAMS_LIST)
        elif name == "training":
            value = rng.choice(TRAININGS)
        elif name == "share":
            value = rng.choice(SHARES)
        elif name == "when":
            value = rng.choice(WHEN[self.lang])
        else:
            raise KeyError(name)
        self[name] = value
        return value


def _fill(template: str, slots: Slots) -> str:
    text = template.format_map(slots)
    return text[:1].upper() + text[1:]


# -- generation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    title: str
    description: str
    department: str
    status: str
    priority: str
    assignee: str | None
    needs_review: bool
    created_at: datetime
    external_id: str


def _timestamps(rng: random.Random, size: int) -> list[int]:
    """``size`` creation times (epoch seconds, sorted) over SPAN_DAYS before END: the volume
    grows (twice as many tickets a day at the end as at the start), few on weekends, most in
    office hours."""
    end_day = int(END.timestamp()) // 86400
    start_day = end_day - SPAN_DAYS
    stamps = []
    while len(stamps) < size:
        t = -1 + math.sqrt(1 + 3 * rng.random())  # density proportional to 1 + t on [0, 1]
        day = start_day + int(t * SPAN_DAYS)
        if (day + 3) % 7 >= 5 and rng.random() < 0.85:  # 1970-01-01 was a Thursday
            continue
        hour = rng.choices(HOURS, HOUR_WEIGHTS)[0]
        stamps.append(day * 86400 + hour * 3600 + rng.randrange(3600))
    stamps.sort()
    return stamps


def _choose(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def generate(size: int, seed: int = SEED) -> Iterator[Ticket]:
    """``size`` realistic tickets, oldest first, the same for the same seed."""
    rng = random.Random(seed)
    names = list(DEPARTMENTS)
    weights = [DEPARTMENTS[n].weight for n in names]
    end = END.timestamp()
    for number, stamp in enumerate(_timestamps(rng, size), 1):
        name = rng.choices(names, weights)[0]
        department = DEPARTMENTS[name]
        lang = "fr" if rng.random() < 0.6 else "en"
        index = 0 if lang == "fr" else 1
        slots = Slots(rng, lang)
        age = (end - stamp) / 86400
        status = rng.choices(STATUSES, next(w for days, w in STATUS_BY_AGE if age <= days))[0]
        priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        if rng.random() < 0.25:  # a request rather than a problem
            title = _fill(rng.choice(department.requests)[index], slots)
            context = title + "."
        else:
            obj = rng.choice(department.objects)[index].format_map(slots)
            problem = rng.choice(department.problems)[index].format_map(slots)
            slots.update(obj=obj, Obj=obj[:1].upper() + obj[1:], pb=problem)
            title = _fill(rng.choice(TITLES[lang]), slots)
            context = _fill(rng.choice(CONTEXTS[lang]), slots)
        if priority == "urgent" and rng.random() < 0.5:
            title = f"URGENT - {title}"
        details = [
            _fill(d[index], slots) for d in rng.sample(department.details, rng.randint(1, 3))
        ]
        parts = [rng.choice(OPENINGS[lang]), context, *details, rng.choice(IMPACTS[lang])]
        closing = rng.choice(CLOSINGS[lang])
        if closing:
            parts.append(closing + (f"\n{slots['first']}" if rng.random() < 0.6 else ""))
        description = (
            "\n".join(p for p in parts if p)
            if rng.random() < 0.5
            else " ".join(p for p in parts if p)
        )
        assignee = None
        if rng.random() >= UNASSIGNED[status]:
            assignee = _choose(rng, AGENTS[name])
        yield Ticket(
            title=title[:200],
            description=description,
            department=name,
            status=status,
            priority=priority,
            assignee=assignee,
            needs_review=rng.random() < NEEDS_REVIEW[status],
            created_at=datetime.fromtimestamp(stamp, UTC),
            external_id=f"HD-{number:07d}",
        )


@dataclass
class Stats:
    """What the generated tickets hold: counts by filter values, by word and by word pair."""

    size: int = 0
    counts: Counter = field(default_factory=Counter)  # (("department", "IT"), ...) -> tickets
    words: Counter = field(default_factory=Counter)  # word -> tickets holding it
    pairs: Counter = field(default_factory=Counter)  # (word, word) -> tickets holding both
    word_filters: Counter = field(default_factory=Counter)  # (word, department, status)
    extras: int = 0  # tickets whose priority, assignee or needs_review is not the default
    _sorted: list[str] = field(default_factory=list, repr=False)

    def count(self, **filters: Any) -> int:
        return self.counts[tuple(sorted(filters.items()))]

    def exact(self, word: str) -> bool:
        """True when no other word begins with ``word``: a search's matches are then exactly
        the tickets holding it (``words[word]``)."""
        if len(self._sorted) != len(self.words):
            self._sorted = sorted(self.words)
        after = bisect.bisect_right(self._sorted, word)
        return after == len(self._sorted) or not self._sorted[after].startswith(word)


COMBINATIONS = (
    ("department",),
    ("status",),
    ("priority",),
    ("assignee",),
    ("needs_review",),
    ("department", "status"),
    ("assignee", "status"),
    ("department", "priority", "status"),
)


def write_files(folder: Path, size: int, seed: int = SEED) -> tuple[Path, Path, Stats]:
    """The import CSV (the columns `ticketbot import` reads), the extras CSV (external_id,
    priority, assignee, needs_review of the tickets where they are not the default, set in SQL
    after the import) and the statistics of the tickets."""
    tickets, extras = folder / f"tickets-{size}.csv", folder / f"extras-{size}.csv"
    stats = Stats(size=size)
    search_words, pairs = set(SEARCH_WORDS) | {w for w, _ in SEARCH_WORDS_DEPARTMENT}, SEARCH_PAIRS
    with (
        open(tickets, "w", newline="", encoding="utf-8") as main,
        open(extras, "w", newline="", encoding="utf-8") as side,
    ):
        out, extra = csv.writer(main), csv.writer(side)
        out.writerow(["external_id", "title", "description", "department", "status", "created_at"])
        extra.writerow(["external_id", "priority", "assignee", "needs_review"])
        for t in generate(size, seed):
            created = t.created_at.strftime("%Y-%m-%d %H:%M:%S")
            out.writerow([t.external_id, t.title, t.description, t.department, t.status, created])
            if t.priority != "normal" or t.assignee or t.needs_review:
                extra.writerow([t.external_id, t.priority, t.assignee or "", int(t.needs_review)])
                stats.extras += 1
            values = {
                "department": t.department,
                "status": t.status,
                "priority": t.priority,
                "assignee": t.assignee or "none",
                "needs_review": t.needs_review,
            }
            for combination in COMBINATIONS:
                stats.counts[tuple((name, values[name]) for name in combination)] += 1
            found = set(words(f"{t.title}\n{t.description}"))
            stats.words.update(found)
            for a, b in pairs:
                if a in found and b in found:
                    stats.pairs[a, b] += 1
            for word in search_words & found:
                stats.word_filters[word, t.department, t.status] += 1
    return tickets, extras, stats


# -- query shapes -----------------------------------------------------------------------------


@dataclass
class Request:
    """One GET and what its answer must be."""

    path: str
    params: dict[str, Any]
    count: int | None = None  # tickets matching (None: not known in advance)
    items: int | None = None  # items on the page (None: up to PAGE)
    filters: dict[str, Any] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    ticket_id: int | None = None


@dataclass
class Shape:
    name: str
    requests: list[Request] = field(default_factory=list)  # used in turn
    deep_cursor: bool = False  # follow next_cursor from DEEP into the list


def _page(params: dict[str, Any], count: int | None, offset: int = 0, **expect: Any) -> Request:
    items = None if count is None else max(0, min(PAGE, count - offset))
    return Request("/tickets", {"limit": PAGE, **params}, count, items, **expect)


def _filters(params: dict[str, Any]) -> dict[str, Any]:
    """What each item must hold for these query parameters."""
    wanted = {}
    for name in ("department", "status", "priority"):
        if name in params:
            wanted[name] = params[name]
    if "needs_review" in params:
        wanted["needs_review"] = params["needs_review"] == "true"
    if "assignee" in params:
        wanted["assignee"] = None if params["assignee"] == "none" else params["assignee"]
    return wanted


def _filtered(stats: Stats, params: dict[str, Any]) -> Request:
    counted = {n: (v == "true" if n == "needs_review" else v) for n, v in params.items()}
    return _page(params, stats.count(**counted), filters=_filters(params))


def _search(stats: Stats, q: str, params: dict[str, Any] | None = None, count=None) -> Request:
    params = dict(params or {})
    return _page({"q": q, **params}, count, filters=_filters(params), words=words(q))


def plan(stats: Stats) -> list[Shape]:
    """The query shapes timed, each with its varied requests (in a fixed order)."""
    rng = random.Random(stats.size)
    size = stats.size
    departments = list(DEPARTMENTS)
    agents = [name for pairs in AGENTS.values() for name, _ in pairs]
    shapes = [
        Shape("newest first", [_page({}, size)]),
        Shape(
            "one ticket by id (reference)",
            [
                Request(f"/tickets/{n}", {}, ticket_id=n)
                for n in rng.sample(range(1, size + 1), min(size, 50))
            ],
        ),
        Shape("department", [_filtered(stats, {"department": d}) for d in departments]),
        Shape("status", [_filtered(stats, {"status": s}) for s in STATUSES]),
        Shape(
            "assignee (agent or none)",
            [_filtered(stats, {"assignee": a}) for a in [*agents, "none"]],
        ),
        Shape("priority", [_filtered(stats, {"priority": p}) for p in PRIORITIES]),
        Shape("needs_review=true", [_filtered(stats, {"needs_review": "true"})]),
        Shape(
            "department + status",
            [
                _filtered(stats, {"department": d, "status": s})
                for d in departments
                for s in STATUSES
            ],
        ),
        Shape(
            "assignee + status (an agent's queue)",
            [_filtered(stats, {"assignee": a, "status": s}) for a in agents for s in STATUSES[:2]],
        ),
        Shape(
            "department + status + priority",
            [
                _filtered(stats, {"department": d, "status": s, "priority": p})
                for d in departments
                for s in ("open", "in_progress")
                for p in ("high", "urgent")
            ],
        ),
        Shape("sort=-priority (urgent first)", [_page({"sort": "-priority"}, size)]),
    ]

    def exact(word: str) -> int | None:
        return stats.words[word] if stats.exact(word) else None

    common = sorted((w for w in SEARCH_WORDS if stats.words[w]), key=lambda w: -stats.words[w])[:12]
    shapes.append(Shape("q common word", [_search(stats, w, count=exact(w)) for w in common]))
    everyday = [
        w
        for w, n in stats.words.most_common(40)
        if w.isalpha() and len(w) >= 4 and n >= size * 0.15
    ][:6]
    shapes.append(
        Shape("q very common word", [_search(stats, w, count=exact(w)) for w in everyday])
    )
    target = max(1.0, size / 10_000)
    candidates = [
        w for w, n in stats.words.items() if w.isalpha() and len(w) >= 5 and n <= 4 * target
    ]
    candidates.sort(key=lambda w: (abs(math.log(stats.words[w] / target)), w))
    rare = [w for w in candidates[:200] if stats.exact(w)][:20]
    shapes.append(Shape("q rare word", [_search(stats, w, count=stats.words[w]) for w in rare]))
    shapes.append(Shape("q matching nothing", [_search(stats, w, count=0) for w in NO_MATCH]))

    def pair_count(a: str, b: str) -> int | None:
        return stats.pairs[a, b] if stats.exact(a) and stats.exact(b) else None

    shapes.append(
        Shape(
            "q two words",
            [_search(stats, f"{a} {b}", count=pair_count(a, b)) for a, b in SEARCH_PAIRS],
        )
    )
    combined = []
    for word, department in SEARCH_WORDS_DEPARTMENT:
        for status in STATUSES:
            known = stats.word_filters[word, department, status] if stats.exact(word) else None
            combined.append(
                _search(stats, word, {"department": department, "status": status}, count=known)
            )
    shapes.append(Shape("q + department + status", combined))
    shapes.append(Shape(f"keyset page {DEEP:.0%} deep (cursor)", deep_cursor=True))
    deep = int(DEEP * size)
    shapes.append(
        Shape(
            f"offset {DEEP:.0%} deep",
            [_page({"offset": deep + PAGE * i}, size, deep + PAGE * i) for i in range(50)],
        )
    )
    return shapes


# -- timing -----------------------------------------------------------------------------------

_RANK = {p: i for i, p in enumerate(PRIORITIES)}


def problems_of(request: Request, status: int, body: Any) -> list[str]:
    """What is wrong with an answer (empty: nothing)."""
    if status != 200:
        return [f"HTTP {status}"]
    if request.ticket_id is not None:
        return [] if body.get("id") == request.ticket_id else ["wrong ticket"]
    found = []
    items = body["items"]
    if request.items is not None and len(items) != request.items:
        found.append(f"{len(items)} items instead of {request.items}")
    elif len(items) > PAGE:
        found.append(f"{len(items)} items on a page of {PAGE}")
    if request.count is not None:
        total, exact = min(request.count, TOTAL_CAP), request.count <= TOTAL_CAP
        if (body["total"], body["total_exact"]) != (total, exact):
            found.append(f"total {body['total']} (exact {body['total_exact']}) not {total}")
    for item in items:
        if any(item[name] != value for name, value in request.filters.items()):
            found.append("an item does not match the filters")
            break
        if request.words:
            held = words(f"{item['title']}\n{item['description']}")
            if not all(any(h.startswith(w) for h in held) for w in request.words):
                found.append("an item does not hold the words")
                break
    if request.params.get("sort", "-created_at") == "-priority":
        keys = [(_RANK[i["priority"]], i["created_at"], i["id"]) for i in items]
    else:
        keys = [(i["created_at"], i["id"]) for i in items]
    if keys != sorted(keys, reverse=True):
        found.append("items out of order")
    return found


@dataclass
class Timing:
    """The answers to one shape: latencies and what was wrong."""

    shape: str
    latencies: list[float] = field(default_factory=list)  # ms
    problems: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.5) if self.latencies else math.nan

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99) if self.latencies else math.nan

    @property
    def wrong(self) -> int:
        return sum(self.problems.values())


def time_shapes(
    url: str,
    key: str,
    shapes: list[Shape],
    size: int,
    requests: int = 200,
    max_seconds: float = 30.0,
    warmup: int = 3,
) -> list[Timing]:
    """Each shape ``requests`` times (fewer when it passes ``max_seconds``, at least 10), one
    request at a time over one keep-alive session; every answer checked."""
    import requests as http

    session = http.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    results = []
    for shape in shapes:
        timing = Timing(shape.name)
        cursor = start_cursor = None
        position = start = 0
        if shape.deep_cursor:
            # One slow offset page, untimed, gives a cursor deep into the list.
            start = min(int(DEEP * size), max(0, size - PAGE))
            answer = session.get(f"{url}/tickets", params={"limit": PAGE, "offset": start})
            answer.raise_for_status()
            start_cursor = answer.json()["next_cursor"]
            cursor, position = start_cursor, start + PAGE
        begun = time.perf_counter()
        for i in range(warmup + requests):
            if shape.deep_cursor:
                if cursor is None:
                    cursor, position = start_cursor, start + PAGE
                request = _page({"cursor": cursor}, size, position) if cursor else _page({}, size)
            else:
                request = shape.requests[i % len(shape.requests)]
            started = time.perf_counter()
            answer = session.get(url + request.path, params=request.params, timeout=600)
            elapsed = (time.perf_counter() - started) * 1000
            body = answer.json() if answer.status_code == 200 else None
            timing.problems.update(problems_of(request, answer.status_code, body))  # warm-up too
            if shape.deep_cursor and body is not None:
                cursor, position = body["next_cursor"], position + PAGE
            if i < warmup:
                continue
            timing.latencies.append(elapsed)
            spent = time.perf_counter() - begun
            if spent > max_seconds and len(timing.latencies) >= 10:
                break
        timing.seconds = time.perf_counter() - begun
        results.append(timing)
    session.close()
    return results


# -- one engine and size ------------------------------------------------------------------------


@dataclass
class Run:
    engine: str
    size: int
    imported: dict[str, Any]
    import_wall: float
    disk_bytes: int
    extras: int
    timings: list[Timing]
    other_cpu: float  # share of a core used by other processes while timing
    server_cpu: float
    unassigned: float = 0.0  # share of the tickets without assignee


def import_csv(path: Path, database_url: str) -> tuple[dict[str, Any], float]:
    """`ticketbot import --keep-labels --json`: its report and the command's wall time."""
    command = [str(TICKETBOT), "import", str(path), "--keep-labels", "--json"]
    started = time.perf_counter()
    result = subprocess.run(
        [*command, "--database-url", database_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"ticketbot import failed: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1]), wall


def _sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def database_bytes(engine: str, database_url: str) -> int:
    """The database's size on disk (SQLite: after a WAL checkpoint)."""
    if engine == "sqlite":
        path = _sqlite_path(database_url)
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    import psycopg2

    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def apply_extras(engine: str, database_url: str, extras: Path) -> None:
    """Priority, assignee and needs_review from ``extras``, which the import does not carry,
    set by one UPDATE; then PostgreSQL's VACUUM ANALYZE (what autovacuum would do after an
    import, were it on)."""
    update = (
        "UPDATE ticket SET priority = e.priority, assignee = NULLIF(e.assignee, ''), "
        "needs_review = e.needs_review FROM extra e WHERE ticket.external_id = e.external_id"
    )
    if engine == "sqlite":
        with open(extras, newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            next(rows)
            connection = sqlite3.connect(_sqlite_path(database_url))
            try:
                connection.execute(
                    "CREATE TEMP TABLE extra (external_id TEXT PRIMARY KEY, priority TEXT, "
                    "assignee TEXT, needs_review INTEGER)"
                )
                connection.executemany("INSERT INTO extra VALUES (?, ?, ?, ?)", rows)
                connection.execute(update)
                connection.commit()
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
        return
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor, open(extras, encoding="utf-8") as handle:
            cursor.execute(
                "CREATE TEMP TABLE extra (external_id TEXT PRIMARY KEY, priority TEXT, "
                "assignee TEXT, needs_review BOOLEAN)"
            )
            cursor.copy_expert("COPY extra FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
            cursor.execute(update)
        connection.commit()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()


def run_size(
    engine: str,
    size: int,
    files: tuple[Path, Path, Stats],
    tmp: Path,
    postgres_url: str = DEFAULT_POSTGRES,
    requests: int = 200,
    max_seconds: float = 30.0,
) -> Run:
    """A fresh database: import, extras in SQL, serve, time every shape."""
    tickets, extras, stats = files
    with scratch_database(engine, f"scale_{size}", tmp, postgres_url) as database_url:
        print(f"  {engine} {size:,}: importing...", flush=True)
        report, wall = import_csv(tickets, database_url)
        disk = database_bytes(engine, database_url)
        print(
            f"  {engine} {size:,}: imported {report['imported']:,} in {report['seconds']} s "
            f"({report['tickets_per_second']:,}/s; command {wall:.1f} s), bad rows "
            f"{report['bad_rows']}, {disk / 2**20:.1f} MiB on disk",
            flush=True,
        )
        apply_extras(engine, database_url, extras)
        key = create_key(database_url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [str(TICKETBOT), "serve", "--port", str(port), "--database-url", database_url]
        server = Server([*command, "--log-level", "warning"], tmp / f"serve-{engine}-{size}.log")
        server.start(url)
        try:
            busy, own, served = (
                machine_busy_seconds(),
                time.process_time(),
                tree_cpu_seconds(server.pid),
            )
            begun = time.monotonic()
            timings = time_shapes(url, key, plan(stats), size, requests, max_seconds)
            wall_time = time.monotonic() - begun
            server_cpu = tree_cpu_seconds(server.pid) - served
            other = machine_busy_seconds() - busy - (time.process_time() - own) - server_cpu
        finally:
            server.stop()
    run = Run(
        engine,
        size,
        report,
        wall,
        disk,
        stats.extras,
        timings,
        max(0.0, other) / wall_time,
        server_cpu / wall_time,
        stats.count(assignee="none") / size,
    )
    for timing in timings:
        flag = " OVER GOAL" if _over(timing) else ""
        wrong = f", {timing.wrong} wrong: {dict(timing.problems)}" if timing.wrong else ""
        print(
            f"    {timing.shape:<38} p50 {timing.p50:8.1f} ms  p99 {timing.p99:8.1f} ms  "
            f"n={len(timing.latencies)}{wrong}{flag}",
            flush=True,
        )
    print(
        f"  {engine} {size:,}: server {run.server_cpu:.0%} of a core, other processes "
        f"{run.other_cpu:.0%} while timing",
        flush=True,
    )
    return run


# -- report -----------------------------------------------------------------------------------


def _over(timing: Timing) -> bool:
    return timing.p50 > GOAL_P50 or timing.p99 > GOAL_P99


def _cell(timing: Timing, requests: int) -> str:
    p50, p99 = f"{timing.p50:.1f}", f"{timing.p99:.1f}"
    if timing.p50 > GOAL_P50:
        p50 = f"**{p50}**"
    if timing.p99 > GOAL_P99:
        p99 = f"**{p99}**"
    cell = f"{p50} / {p99}"
    if len(timing.latencies) < requests:
        cell += f" (n={len(timing.latencies)})"
    if timing.wrong:
        cell += f" ({timing.wrong} wrong)"
    return cell


def _size(n: int) -> str:
    """10k, 1M, 1.5k, 300."""
    for unit, name in ((1_000_000, "M"), (1000, "k")):
        if n >= unit:
            return f"{n / unit:g}{name}"
    return str(n)


def _bytes(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def growth(runs: list[Run]) -> str:
    """How each cost grows from the smallest size measured to the largest."""
    small, large = runs[0], runs[-1]
    factor = large.size / small.size
    groups: dict[str, list[str]] = {"flat": [], "some": [], "linear": []}
    for a, b in zip(small.timings, large.timings, strict=True):
        ratio = b.p50 / a.p50 if a.p50 else math.inf
        label = f"{a.shape} ×{ratio:.1f}"
        if ratio < 2:
            groups["flat"].append(label)
        elif ratio < factor / 3:
            groups["some"].append(label)
        else:
            groups["linear"].append(label)
    rate_small = small.imported["tickets_per_second"] or 0
    rate_large = large.imported["tickets_per_second"] or 0
    parts = [
        f"From {_size(small.size)} to {_size(large.size)} tickets (×{factor:.0f}) on "
        f"{small.engine}, p50: "
        + "; ".join(
            f"{title}: {', '.join(items)}"
            for title, items in (
                ("flat (under ×2)", groups["flat"]),
                (f"grows ×2 to ×{factor / 3:.0f}", groups["some"]),
                (f"grows ×{factor / 3:.0f} or more, about with the tickets", groups["linear"]),
            )
            if items
        )
        + ".",
        f"Import speed {rate_small:,} → {rate_large:,} tickets/s; disk "
        f"{small.disk_bytes / small.size:,.0f} → {large.disk_bytes / large.size:,.0f} bytes "
        "per ticket.",
    ]
    return " ".join(parts)


def report(runs: list[Run], args: argparse.Namespace, skipped: str | None, load: float) -> str:
    engines = list(dict.fromkeys(r.engine for r in runs))
    sections = []
    over_goal = []
    for engine in engines:
        mine = sorted((r for r in runs if r.engine == engine), key=lambda r: r.size)
        header = "| shape | " + " | ".join(f"{_size(r.size)} p50 / p99 ms" for r in mine) + " |"
        lines = [header, "|---|" + "---:|" * len(mine)]
        for index, timing in enumerate(mine[0].timings):
            cells = [_cell(r.timings[index], args.requests) for r in mine]
            lines.append(f"| {timing.shape} | " + " | ".join(cells) + " |")
        for r in mine:
            late = [t.shape for t in r.timings if _over(t)]
            if late:
                over_goal.append(f"{engine} {_size(r.size)}: {', '.join(late)}")
        imports = [
            "| tickets | import tickets/s (goal ≥ 20,000) | import command s | on disk after "
            "import | bytes/ticket | other processes' CPU while timing |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in mine:
            rate = r.imported["tickets_per_second"] or 0
            shown = f"{rate:,}" if rate >= GOAL_IMPORT else f"**{rate:,}**"
            imports.append(
                f"| {r.size:,} | {shown} | {r.import_wall:.1f} | {_bytes(r.disk_bytes)} | "
                f"{r.disk_bytes / r.size:,.0f} | {r.other_cpu:.0%} of a core |"
            )
        text = f"### {engine}\n\n" + "\n".join(lines) + "\n\n" + "\n".join(imports)
        if len(mine) > 1:
            text += "\n\n" + growth(mine)
        sections.append(text)
    wrong = sum(t.wrong for r in runs for t in r.timings)
    command = "python -m bench.scale" + "".join(f" {a}" for a in sys.argv[1:] if a != "--no-record")
    setup = (
        f"`{command}`: generated French/English tickets (seed {args.seed}; 5 departments, "
        f"statuses by age, skewed priorities, {sum(len(a) for a in AGENTS.values())} agents "
        f"and {runs[0].unassigned:.0%} unassigned, 3 years) imported "
        "with `ticketbot import --keep-labels`; priority, assignee and needs_review are not "
        f"carried by the import and were set afterwards by one SQL UPDATE (on about "
        f"{runs[0].extras / runs[0].size:.0%} of the tickets), followed on PostgreSQL by VACUUM "
        "ANALYZE (autovacuum would do it on its own server; it is off on the test server). "
        f"Then `ticketbot serve` (1 worker) and, per shape, {args.requests} GET requests "
        f"(fewer when a shape passes {args.max_seconds:g} s) in turn over one keep-alive "
        f"session after 3 warm-up requests, limit={PAGE}, values varied (departments, "
        f"statuses, agents, words); the keyset shape follows next_cursor from {DEEP:.0%} into "
        f"the list, the offset shape asks offset={DEEP:.0%} of the tickets. Goal: p50 ≤ "
        f"{GOAL_P50:g} ms and p99 ≤ {GOAL_P99:g} ms per shape (figures over it in bold); "
        f"import ≥ {GOAL_IMPORT:,} tickets/s. Every answer was checked (status, items, total, "
        f"filters, words, order): {wrong} wrong. Load average at the start: {load:.2f}; the "
        "last column of the import tables is the CPU other processes used while the shapes "
        "were timed (on PostgreSQL it includes the PostgreSQL server answering them)."
    )
    if skipped:
        setup += f" PostgreSQL skipped: {skipped}."
    summary = (
        "Over the goal: " + "; ".join(over_goal) + "." if over_goal else "Every shape met the goal."
    )
    return setup + "\n\n" + "\n\n".join(sections) + "\n\n" + summary


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write sizes as 10000,100000") from None
    if not sizes or sizes[0] < 100:
        raise argparse.ArgumentTypeError("sizes are at least 100 tickets")
    return sizes


def _engines(text: str) -> list[str]:
    engines = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown or not engines:
        raise argparse.ArgumentTypeError(f"engines are {', '.join(ENGINES)}")
    return engines


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--sizes", type=_sizes, default=list(SIZES), help="ticket counts")
    parser.add_argument("--engines", type=_engines, default=list(ENGINES), help="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per shape")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=30.0,
        help="at most this long per shape (>= 10 requests)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="generator seed")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="admin connection used to create (and drop) a scratch database (default: %(default)s)",
    )
    args = parser.parse_args()

    engines = list(args.engines)
    skipped = None
    if "postgresql" in engines:
        skipped = postgres_unreachable(args.postgres_url)
        if skipped:
            print(f"PostgreSQL skipped: {skipped}")
            engines.remove("postgresql")
    if not engines:
        raise SystemExit("no engine to measure")
    load = os.getloadavg()[0]
    print(f"load average before starting: {load:.2f}", flush=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="ticketbot-scale-") as folder:
        tmp = Path(folder)
        for size in args.sizes:
            started = time.perf_counter()
            files = write_files(tmp, size, args.seed)
            print(
                f"{size:,} tickets generated in {time.perf_counter() - started:.1f} s "
                f"({files[0].stat().st_size / 2**20:.0f} MiB CSV)",
                flush=True,
            )
            for engine in engines:
                runs.append(
                    run_size(
                        engine, size, files, tmp, args.postgres_url, args.requests, args.max_seconds
                    )
                )
            files[0].unlink()
            files[1].unlink()
    body = report(runs, args, skipped, load)
    print()
    print(body)
    if not args.no_record:
        record("Scale", body)


if __name__ == "__main__":
    main()
