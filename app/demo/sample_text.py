"""The demo school's sample text: names, companies, work situations and comments, in French
as the people of a French engineering school would write them."""

from __future__ import annotations

from app.models import RatingSource

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise", "Emma", "Sarah", "Zoé",
    "Lucas", "Hugo", "Louis", "Nathan", "Gabriel", "Arthur", "Jules", "Adam", "Raphaël", "Théo",
    "Mathis", "Noah", "Paul", "Yanis", "Lina", "Clara", "Maëlle", "Eva", "Romane", "Anaïs",
    "Alice", "Juliette", "Margaux", "Élise", "Pauline", "Justine", "Océane", "Agathe", "Mila",
    "Ambre", "Victor", "Maxime", "Antoine", "Baptiste", "Clément", "Alexandre", "Quentin",
    "Thomas", "Valentin", "Romain", "Mehdi", "Karim", "Sofiane", "Amine", "Yasmine", "Nour",
    "Kevin", "Julien", "Bastien", "Corentin", "Enzo", "Tom", "Axel", "Nina", "Lou", "Rose",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guerin",
    "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier",
    "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen",
    "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël",
    "Meyer", "Lucas", "Meunier", "Jean", "Perez", "Marchand", "Dufour", "Blanchard", "Marie",
    "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Pierre",
    "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois",
    "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe", "Leclercq", "Lacroix", "Fabre",
    "Dupuis", "Olivier", "Rodriguez", "Da Silva", "Hubert", "Louis", "Charles", "Guillot",
    "Rivière", "Le Gall", "Guillaume", "Adam", "Rey", "Moulin", "Gonzalez", "Berger", "Lecomte",
    "Menard", "Fleury", "Deschamps", "Carpentier", "Julien", "Benoit", "Paris", "Maillard",
    "Marchal", "Aubry", "Vasseur", "Le Roux", "Renault", "Jacquet", "Collet", "Prevost",
    "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons", "Paul", "Laine",
    "Carré", "Breton", "Rémy", "Schneider", "Perrot", "Guyot", "Barre", "Marty", "Cousin",
    "Benali", "Haddad", "Mansouri", "Diallo", "Traoré", "Kone", "Tran", "Pham", "Le Goff",
)  # fmt: skip
# The four companies of the small demo, kept as they always were.
COMPANIES = (
    ("Aérostructures du Poitou", "41234567800012", "aerostructures-poitou.example"),
    ("Mécanique de Précision Rhône-Alpes", "52345678900023", "mprhonealpes.example"),
    ("Turbomoteurs Atlantique", "63456789000034", "turbo-atlantique.example"),
    ("Usinage et Composites de Bordeaux", "74567890100045", "ucb-composites.example"),
)
COMPANY_TRADES = (
    "Aérostructures", "Mécanique de Précision", "Usinage", "Composites", "Forges", "Fonderie",
    "Turbomachines", "Systèmes Embarqués", "Chaudronnerie", "Outillage",
    "Électronique Industrielle", "Hydraulique", "Robotique", "Plasturgie", "Décolletage",
    "Traitements de Surface", "Équipements Aéronautiques", "Motorisation", "Automatismes",
    "Métrologie", "Assemblages", "Transmissions", "Propulsion", "Maintenance Aéronautique",
    "Thermique Industrielle", "Mécatronique", "Tôlerie Fine", "Fabrication Additive",
)  # fmt: skip
COMPANY_PLACES = (
    "du Poitou", "de Normandie", "Rhône-Alpes", "de l'Atlantique", "du Sud-Ouest",
    "de Bourgogne", "d'Alsace", "de Lorraine", "du Béarn", "de Picardie", "du Val de Loire",
    "des Ardennes", "de Champagne", "du Dauphiné", "de Provence", "d'Occitanie", "de Bretagne",
    "du Limousin", "d'Auvergne", "de Franche-Comté", "du Vexin", "de Gascogne", "de Savoie",
    "du Berry", "de Touraine", "du Nord", "de l'Estuaire", "de la Vallée de l'Arve",
    "du Jura", "de Vendée", "des Landes", "du Forez",
)  # fmt: skip

PIECES = (
    "carters de turbine", "bielles", "supports moteur", "aubes de compresseur",
    "longerons d'aile", "pignons de transmission", "panneaux composites",
    "arbres de transmission", "boîtiers électroniques", "vérins hydrauliques",
    "trains d'atterrissage", "porte-satellites", "raccords hydrauliques", "brides en titane",
    "nacelles moteur", "carénages", "disques de frein", "réservoirs cryogéniques",
)  # fmt: skip
WORKSHOPS = (
    "l'atelier d'usinage", "la ligne d'assemblage final", "l'atelier composites",
    "le bureau d'études", "le service qualité", "l'atelier de traitement de surface",
    "la cellule robotisée", "le magasin central", "l'atelier de chaudronnerie",
    "le laboratoire d'essais",
)  # fmt: skip
INDICATORS = (
    "TRS", "taux de rebut", "temps de cycle", "délai de livraison", "taux de service",
    "coût de non-qualité", "temps de changement de série", "nombre de retouches",
)  # fmt: skip
METHODS = ("AMDEC", "SMED", "5S", "Kanban", "DMAIC", "8D", "Ishikawa", "VSM", "QRQC", "TPM")
SOFTWARE = {
    "cad": ("CATIA V5", "SolidWorks", "Creo", "NX", "TopSolid"),
    "fea": ("Abaqus", "ANSYS", "Nastran", "Code_Aster"),
    "bi": ("Power BI", "Python", "Excel et VBA", "Grafana"),
    "stats": ("Minitab", "Python", "JMP", "R"),
    "cam": ("CATIA V5", "NX CAM", "Mastercam", "TopSolid"),
}
TEAMS = (
    "les opérateurs de production", "les régleurs", "les méthodes", "la qualité fournisseurs",
    "les achats", "la maintenance", "les acheteurs", "le bureau d'études",
)  # fmt: skip

# (title, context, actions, results, learnings), with {placeholders} filled per situation.
ACTIVITIES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "Chantier {method} sur la ligne des {piece}",
        "Le {indicator} de la ligne des {piece} stagnait depuis plusieurs mois ; la direction "
        "industrielle m'a confié un chantier d'amélioration avec {team}.",
        "J'ai animé {n} ateliers de terrain, cartographié le flux, puis déployé la démarche "
        "{method} en priorisant les causes à l'aide d'un diagramme de Pareto.",
        "Le {indicator} s'est amélioré de {pct} % en {weeks} semaines ; les standards mis à jour "
        "sont affichés au poste et suivis chaque semaine.",
        "J'ai appris à mesurer avant d'agir et à faire adhérer une équipe de terrain à un "
        "changement qu'elle n'avait pas demandé.",
    ),
    (
        "AMDEC processus pour l'industrialisation des {piece}",
        "L'industrialisation d'une nouvelle référence {of_piece} démarrait dans {workshop}, avec "
        "un objectif de premières pièces bonnes sous {weeks} semaines.",
        "J'ai piloté l'AMDEC processus avec {team} : {n} modes de défaillance analysés, "
        "cotation gravité/occurrence/détection et plan d'actions associé.",
        "Les {n} risques les plus critiques ont une action de maîtrise ; la criticité moyenne a "
        "baissé de {pct} % avant le lancement en série.",
        "J'ai compris l'intérêt d'anticiper les défaillances plutôt que de les corriger, et "
        "l'importance de la traçabilité des décisions.",
    ),
    (
        "Conception d'un outillage de contrôle sous {cad}",
        "Le contrôle des {piece} se faisait sur marbre, avec une dispersion importante entre "
        "contrôleurs et un temps de contrôle jugé trop long.",
        "J'ai rédigé le cahier des charges, conçu un montage de contrôle sous {cad}, "
        "consulté deux fournisseurs et suivi la réalisation puis la réception.",
        "Le temps de contrôle a diminué de {pct} % et l'étude R&R de répétabilité est passée "
        "sous le seuil de 10 %.",
        "J'ai progressé en cotation fonctionnelle et appris à arbitrer entre coût, délai et "
        "performance d'un outillage.",
    ),
    (
        "Dimensionnement par éléments finis des {piece}",
        "Une évolution de charge imposée par le client remettait en cause la tenue mécanique "
        "des {piece} en service.",
        "J'ai construit le modèle sous {fea}, défini les conditions aux limites avec le "
        "bureau d'études, réalisé {n} itérations de calcul et comparé aux essais disponibles.",
        "Une modification de géométrie ramène la contrainte maximale sous la limite admissible, "
        "avec un gain de masse de {pct} %.",
        "J'ai appris à critiquer un résultat de simulation et à documenter les hypothèses pour "
        "qu'un autre ingénieur puisse reprendre le calcul.",
    ),
    (
        "Résolution 8D d'une réclamation client",
        "Un client a signalé des non-conformités dimensionnelles sur un lot {of_piece}, avec "
        "risque d'arrêt de sa propre ligne.",
        "J'ai constitué l'équipe 8D avec {team}, sécurisé le stock sous 24 heures, mené "
        "l'analyse des causes (Ishikawa, 5 pourquoi) et validé les actions correctives.",
        "Aucune récidive sur les {n} lots suivants ; le rapport 8D a été accepté par le client "
        "en {weeks} semaines.",
        "J'ai appris à communiquer avec un client mécontent et à séparer la réaction immédiate "
        "de la correction durable.",
    ),
    (
        "Tableau de bord de suivi de production sous {bi}",
        "Les indicateurs suivis dans {workshop} étaient compilés à la main chaque lundi, avec des "
        "erreurs et un décalage d'une semaine.",
        "J'ai recensé les besoins des chefs d'équipe, extrait les données de l'ERP et construit "
        "un tableau de bord automatisé sous {bi}, avec {n} indicateurs.",
        "Les données sont disponibles chaque matin ; la réunion de production a gagné {pct} % "
        "de temps et s'appuie sur des chiffres partagés.",
        "J'ai appris qu'un indicateur ne sert que s'il déclenche une décision, et à simplifier "
        "pour être lu.",
    ),
    (
        "Réimplantation d'un poste dans {workshop}",
        "Le poste de finition des {piece} générait des déplacements inutiles et des remontées "
        "de troubles musculo-squelettiques.",
        "J'ai filmé et chronométré le poste, proposé trois scénarios d'implantation, consulté "
        "l'ergonome et {team}, puis piloté le déménagement sur un week-end.",
        "Les déplacements ont diminué de {pct} % et la charge posturale est passée en zone verte "
        "sur la grille d'évaluation.",
        "J'ai appris à associer les opérateurs dès la conception : leurs idées ont été les "
        "meilleures.",
    ),
    (
        "Plan d'expériences sur les paramètres de procédé",
        "Le taux de rebut des {piece} variait fortement d'une équipe à l'autre sans cause "
        "identifiée.",
        "J'ai construit un plan d'expériences à {n} essais sur quatre facteurs, réalisé les "
        "essais avec les régleurs et analysé les résultats sous {stats}.",
        "Deux facteurs influents ont été identifiés ; les nouveaux réglages réduisent le taux de "
        "rebut de {pct} %.",
        "J'ai appris la rigueur expérimentale et la différence entre corrélation et causalité.",
    ),
    (
        "Analyse de coût et étude « faire ou faire faire » des {piece}",
        "La direction envisageait de sous-traiter la fabrication des {piece} pour libérer de la "
        "capacité.",
        "J'ai reconstitué le coût complet interne, consulté {n} sous-traitants, intégré les coûts "
        "logistiques et qualité et présenté une synthèse au comité de direction.",
        "La fabrication reste interne pour les petites séries ; la sous-traitance des grandes "
        "séries dégage une économie estimée à {pct} %.",
        "J'ai découvert la comptabilité analytique et appris à présenter un arbitrage à des "
        "décideurs pressés.",
    ),
    (
        "Audit 5S et sécurité dans {workshop}",
        "Plusieurs presque-accidents avaient été déclarés dans {workshop} au trimestre précédent.",
        "J'ai réalisé l'audit 5S et sécurité, animé {n} séances de rangement avec les équipes et "
        "mis en place un affichage visuel des zones et des équipements.",
        "Le score d'audit est passé de 42 à {score} sur 100 ; aucun presque-accident déclaré sur "
        "les {weeks} semaines suivantes.",
        "J'ai pris conscience de ma responsabilité d'encadrant en matière de santé et de "
        "sécurité au travail.",
    ),
    (
        "Qualification d'un nouveau fournisseur {of_piece}",
        "Le fournisseur historique des {piece} ne tenait plus les délais et un second source "
        "devenait nécessaire.",
        "J'ai préparé la grille d'audit, audité le site avec la qualité fournisseurs, suivi les "
        "{n} pièces de présérie et rédigé le rapport de qualification.",
        "Le fournisseur est qualifié avec un plan de surveillance renforcé ; le taux de service "
        "a progressé de {pct} %.",
        "J'ai appris à évaluer objectivement un partenaire et à formaliser des exigences "
        "contractuelles.",
    ),
    (
        "Pilotage du remplacement d'une machine-outil",
        "Une machine vieillissante, dans {workshop}, tombait en panne plusieurs fois par mois.",
        "J'ai établi le cahier des charges, comparé {n} offres, construit le planning et le "
        "budget, puis coordonné l'installation avec la maintenance et la production.",
        "La machine a été mise en service avec {weeks} jours d'avance sur le planning et un "
        "budget tenu à {pct} % près.",
        "J'ai appris à piloter un projet avec plusieurs services et à gérer les imprévus sans "
        "perdre de vue l'objectif.",
    ),
    (
        "Programmation FAO et gamme d'usinage des {piece}",
        "Une nouvelle référence {of_piece} devait être usinée sur un centre cinq axes.",
        "J'ai rédigé la gamme, programmé les parcours d'outils sous {cam}, simulé les "
        "collisions et accompagné les premières pièces avec le régleur.",
        "Le temps de cycle est inférieur de {pct} % à l'estimation initiale ; la première pièce "
        "était conforme.",
        "J'ai relié la théorie de la coupe à la réalité de l'atelier et appris l'humilité face à "
        "l'expérience des régleurs.",
    ),
    (
        "Bilan énergétique et plan de sobriété dans {workshop}",
        "Dans le cadre de la démarche RSE du site, chaque atelier devait réduire sa consommation "
        "d'énergie.",
        "J'ai instrumenté les principaux consommateurs, analysé {weeks} semaines de mesures et "
        "proposé {n} actions classées par coût et gain.",
        "Les actions retenues réduisent la consommation de {pct} % ; les fuites d'air comprimé "
        "ont été traitées en priorité.",
        "J'ai compris comment intégrer les enjeux environnementaux dans les décisions "
        "industrielles du quotidien.",
    ),
    (
        "Formation des équipes au nouveau standard de travail",
        "Un nouveau standard de travail sur les {piece} devait être déployé sur les trois équipes.",
        "J'ai conçu le support de formation, formé {n} personnes par petits groupes et mis en "
        "place une validation au poste.",
        "Toutes les personnes sont habilitées ; les écarts au standard ont baissé de {pct} % au "
        "premier audit.",
        "J'ai appris à adapter mon discours à des publics différents et à vérifier la "
        "compréhension plutôt que la présence.",
    ),
    (
        "Revue de conception avec un client international",
        "Le client, basé à l'étranger, organisait une revue de conception des {piece} en anglais.",
        "J'ai préparé la présentation technique, répondu aux questions sur les marges de calcul "
        "et rédigé le compte rendu et la liste des actions.",
        "La revue a été validée avec {n} actions mineures, toutes soldées en {weeks} semaines.",
        "J'ai gagné en aisance à l'oral en anglais et appris à défendre un choix technique "
        "avec des données.",
    ),
    (
        "Veille technologique sur la fabrication additive",
        "L'entreprise envisage la fabrication additive métallique pour une partie des {piece}.",
        "J'ai réalisé une veille sur les procédés, visité un centre technique, identifié {n} "
        "pièces candidates et estimé les gains de masse et de délai.",
        "Deux pièces ont été retenues pour un prototype ; le gain de masse attendu est de {pct} %.",
        "J'ai appris à structurer une veille et à distinguer promesse technologique et "
        "maturité industrielle.",
    ),
    (
        "Maîtrise statistique du procédé sur les {piece}",
        "Les cotes critiques des {piece} étaient contrôlées à 100 %, ce qui pesait sur le temps "
        "de cycle.",
        "J'ai mesuré la capabilité sur {n} pièces avec {stats}, mis en place des cartes de "
        "contrôle et formé les opérateurs à leur lecture.",
        "Le Cpk dépasse 1,33 sur les cotes critiques ; le contrôle est passé en fréquentiel et "
        "le temps de cycle a baissé de {pct} %.",
        "J'ai appris à utiliser les statistiques pour piloter un procédé plutôt que pour "
        "constater après coup.",
    ),
    (
        "Mise en place d'un flux Kanban d'approvisionnement",
        "Les ruptures de composants pour les {piece} provoquaient des arrêts de ligne répétés.",
        "J'ai dimensionné les boucles Kanban avec la logistique, défini {n} références pilotes "
        "et formé les caristes et {team}.",
        "Aucune rupture sur les références pilotes en {weeks} semaines ; le stock a baissé de "
        "{pct} %.",
        "J'ai compris l'intérêt du flux tiré et la nécessité de la discipline pour qu'il tienne.",
    ),
    (
        "Plan de maintenance préventive d'une presse",
        "Les pannes répétées d'une presse, dans {workshop}, pénalisaient le TRS.",
        "J'ai analysé l'historique des pannes, défini avec la maintenance {n} opérations "
        "préventives et mis en place une démarche TPM de premier niveau avec les opérateurs.",
        "Le temps d'arrêt pour panne a baissé de {pct} % en {weeks} semaines.",
        "J'ai appris à travailler avec la maintenance comme un partenaire de la production.",
    ),
)
TUTOR_COMMENTS = (
    "Très bon travail, synthèse claire et chiffrée.",
    "Bonne analyse ; pense à chiffrer les gains dans la durée.",
    "Travail sérieux, à présenter au prochain comité de pilotage.",
    "Bien mené ; attention aux délais sur la phase de validation.",
    "Rigoureux et bien documenté.",
    "Bonne autonomie sur ce sujet, continue ainsi.",
    "Résultat concret et apprécié par l'équipe de production.",
)
GENERAL_COMMENTS = {
    RatingSource.APPRENTICE: (
        "J'ai gagné en autonomie ce semestre, notamment dans la conduite de mes missions.",
        "Semestre dense, avec une première mission en pleine responsabilité.",
        "Je dois encore progresser dans la communication avec les équipes de production.",
        "J'ai pu relier plusieurs cours à des situations concrètes de l'entreprise.",
        "Je me sens plus à l'aise pour animer des réunions et défendre mes propositions.",
    ),
    RatingSource.TUTOR: (
        "Bonne implication dans l'équipe et progression visible sur les sujets techniques.",
        "Travail fiable ; doit gagner en assurance dans les échanges avec la direction.",
        "Autonomie croissante, les missions confiées ont été menées à terme.",
        "Très bonne intégration ; peut désormais porter des sujets plus transverses.",
        "Progrès nets sur la gestion du temps et le suivi des actions.",
    ),
    RatingSource.SUPERVISOR: (
        "Progression conforme aux attendus du semestre.",
        "Bonne articulation entre les enseignements et les missions en entreprise.",
        "Le journal est régulier et les situations sont bien reliées aux compétences.",
        "Attention à mieux formaliser les apprentissages dans le journal.",
        "Parcours solide ; les axes de progrès sont identifiés et partagés.",
    ),
}
STRENGTHS = (
    "la rigueur d'analyse",
    "l'autonomie dans les missions",
    "la qualité des livrables",
    "l'aisance relationnelle avec les équipes",
    "la maîtrise des outils de simulation",
    "le pilotage des actions",
    "la capacité de synthèse",
)
IMPROVEMENTS = (
    "la prise de parole en réunion",
    "l'anticipation des risques projet",
    "la formalisation écrite",
    "la gestion des priorités",
    "la communication en anglais",
    "la prise en compte des coûts",
    "la délégation",
)
RATING_COMMENTS = (
    "Observé à plusieurs reprises dans les missions du semestre.",
    "Progression nette depuis le semestre précédent.",
    "À consolider lors de la prochaine mission.",
    "Acquis en situation, reste à gagner en autonomie.",
    "Peu d'occasions de le mettre en œuvre ce semestre.",
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.0 Safari",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36",
)
MOBILITY_HOSTS = (
    ("DE", "Technische Universität München"),
    ("DE", "RWTH Aachen University"),
    ("GB", "Cranfield University"),
    ("GB", "University of Bristol"),
    ("ES", "Universidad Politécnica de Madrid"),
    ("IT", "Politecnico di Milano"),
    ("IT", "Politecnico di Torino"),
    ("CA", "Polytechnique Montréal"),
    ("CA", "Université Laval"),
    ("US", "Georgia Institute of Technology"),
    ("SE", "KTH Royal Institute of Technology"),
    ("NL", "Delft University of Technology"),
    ("BE", "Université catholique de Louvain"),
    ("IE", "University of Limerick"),
    ("PL", "Politechnika Warszawska"),
    ("CZ", "České vysoké učení technické v Praze"),
    ("JP", "Tohoku University"),
    ("SG", "Nanyang Technological University"),
    ("FI", "Aalto University"),
    ("PT", "Instituto Superior Técnico"),
    ("NO", "Norwegian University of Science and Technology"),
    ("CH", "École polytechnique fédérale de Lausanne"),
)
