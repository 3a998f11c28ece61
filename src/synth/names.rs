//! Customers of the synthetic data set: French-style legal names (with
//! their legal forms, accents, "Établissements X"), a few foreign ones
//! (GmbH, Ltd), trade-name aliases, and the variants a bank line shows of
//! them (upper case, accents stripped, legal form dropped or moved, "ETS",
//! word order swapped, truncated).
//!
//! Names are unique after the normalisation a matcher applies (case,
//! accents, legal forms, word order), so a name variant on a bank line
//! designates exactly one customer, as the truth file says it does.

use std::collections::HashSet;

use super::codes::{Rng, fold_upper, truncate};

const SURNAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Sanchez",
    "Gérard",
    "Nguyen",
    "Boyer",
    "Denis",
    "Lemaire",
    "Duval",
    "Joly",
    "Gautier",
    "Roger",
    "Roche",
    "Roy",
    "Noël",
    "Meyer",
    "Lucas",
    "Meunier",
    "Jean",
    "Pérez",
    "Marchand",
    "Dufour",
    "Blanchard",
    "Marie",
    "Barbier",
    "Brun",
    "Dumas",
    "Brunet",
    "Schmitt",
    "Leroux",
    "Colin",
    "Fernandez",
    "Pierre",
    "Renard",
    "Arnaud",
    "Rolland",
    "Caron",
    "Aubert",
    "Giraud",
    "Leclerc",
    "Vidal",
    "Bourgeois",
    "Renaud",
    "Lemoine",
    "Picard",
    "Gaillard",
    "Philippe",
    "Leclercq",
    "Lacroix",
    "Fabre",
    "Dupuis",
    "Olivier",
];

/// Syllables that make further plausible surnames (`Ber` + `ville`).
const SYLLABLES_HEAD: &[&str] = &[
    "Ber", "Cha", "Dela", "Fer", "Gal", "Hé", "Jau", "Lan", "Mar", "Pel", "Quen", "Ros", "Sau",
    "Tes", "Val", "Bou", "Cour", "Mon", "Ro", "Vil",
];
const SYLLABLES_TAIL: &[&str] = &[
    "ville", "court", "mont", "lier", "rand", "chet", "tier", "naud", "bert", "ssac", "gnon",
    "lot", "vel", "rac", "mard", "pin", "zard", "quet", "din", "rier",
];

const ACTIVITIES: &[&str] = &[
    "Boulangerie",
    "Transports",
    "Garage",
    "Pharmacie",
    "Cabinet",
    "Menuiserie",
    "Plomberie",
    "Électricité",
    "Imprimerie",
    "Librairie",
    "Quincaillerie",
    "Fromagerie",
    "Boucherie",
    "Charcuterie",
    "Pâtisserie",
    "Carrosserie",
    "Maçonnerie",
    "Couverture",
    "Jardinerie",
    "Hôtel",
    "Restaurant",
    "Brasserie",
    "Épicerie",
    "Clinique",
    "Laboratoire",
    "Atelier",
    "Papeterie",
    "Distribution",
    "Logistique",
    "Informatique",
    "Bâtiment",
    "Chauffage",
    "Peinture",
    "Vins",
    "Optique",
    "Serrurerie",
    "Ambulances",
    "Taxis",
    "Nettoyage",
    "Sécurité",
];

const PLACES: &[&str] = &[
    "Lyon",
    "Marseille",
    "Toulouse",
    "Nantes",
    "Bordeaux",
    "Lille",
    "Rennes",
    "Reims",
    "Dijon",
    "Angers",
    "Grenoble",
    "Nîmes",
    "Brest",
    "Limoges",
    "Tours",
    "Amiens",
    "Metz",
    "Besançon",
    "Orléans",
    "Rouen",
    "Caen",
    "Nancy",
    "Avignon",
    "Poitiers",
    "Pau",
    "Calais",
    "Béziers",
    "Colmar",
    "Quimper",
    "Valence",
    "Chartres",
    "Vannes",
    "Annecy",
    "Lorient",
    "Niort",
    "Troyes",
    "Agen",
    "Albi",
    "Évreux",
    "Belfort",
    "du Centre",
    "de la Gare",
    "du Port",
    "des Halles",
    "du Marché",
    "de l'Ouest",
    "du Lac",
    "des Alpes",
    "de Provence",
    "d'Alsace",
];

const FRENCH_FORMS: &[&str] = &["SARL", "SAS", "SA", "EURL", "SASU", "SNC"];

const FOREIGN: &[(&str, &[&str])] = &[
    (
        "GmbH",
        &[
            "Maschinenbau",
            "Handel",
            "Logistik",
            "Technik",
            "Elektro",
            "Bau",
        ],
    ),
    (
        "Ltd",
        &[
            "Tools", "Imports", "Trading", "Supplies", "Foods", "Systems",
        ],
    ),
];
const FOREIGN_SURNAMES: &[&str] = &[
    "Müller",
    "Schneider",
    "Fischer",
    "Weber",
    "Becker",
    "Hoffmann",
    "Johnson",
    "Smith",
    "Taylor",
    "Brown",
    "Wilson",
    "Walker",
];

/// Trade-name heads of aliases (`Le Comptoir Martin`).
const TRADE_HEADS: &[&str] = &[
    "Le Comptoir",
    "L'Atelier",
    "Maison",
    "Espace",
    "Groupe",
    "Au Service",
    "Les Ateliers",
    "Le Relais",
];

/// Legal forms a matcher drops when comparing names.
pub const LEGAL_FORMS: &[&str] = &[
    "SARL",
    "SAS",
    "SA",
    "EURL",
    "SASU",
    "SNC",
    "GMBH",
    "LTD",
    "ETS",
    "ETABLISSEMENTS",
];

/// Attempts at a fresh name before a numbered one is taken: far above what
/// the combinations need (about a million distinct names for 330,000
/// customers), it only bounds the loop.
const NAME_ATTEMPTS_MAX: usize = 64;

pub struct Customer {
    pub id: String,
    /// Name without the legal form ("Boulangerie Lefèvre", "Établissements
    /// Martin").
    pub core: String,
    /// `SARL`, `GmbH`, ... or empty.
    pub form: &'static str,
    pub etablissements: bool,
    pub aliases: Vec<String>,
    pub ibans: Vec<String>,
}

impl Customer {
    pub fn legal_name(&self) -> String {
        if self.form.is_empty() {
            self.core.clone()
        } else {
            format!("{} {}", self.core, self.form)
        }
    }
}

/// The comparison key of a name: folded, legal forms dropped, words sorted.
pub fn name_key(name: &str) -> String {
    let folded = fold_upper(name);
    let mut words: Vec<&str> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !LEGAL_FORMS.contains(w))
        .filter(|w| !matches!(*w, "ET" | "DE" | "DU" | "DES" | "LA" | "LE" | "L" | "D"))
        .collect();
    words.sort_unstable();
    words.join(" ")
}

pub struct NameBook {
    taken: HashSet<String>,
}

impl NameBook {
    pub fn new() -> NameBook {
        NameBook {
            taken: HashSet::new(),
        }
    }

    /// Reserves a name's key; false when a name with that key exists.
    pub fn claim(&mut self, name: &str) -> bool {
        self.taken.insert(name_key(name))
    }

    fn surname(rng: &mut Rng) -> String {
        if rng.chance(45) {
            rng.pick(SURNAMES).to_string()
        } else {
            format!("{}{}", rng.pick(SYLLABLES_HEAD), rng.pick(SYLLABLES_TAIL))
        }
    }

    /// One new customer with a name unique under `name_key`.
    pub fn customer(&mut self, rng: &mut Rng, id: String) -> Customer {
        let mut chosen: Option<(String, &'static str, bool)> = None;
        for _ in 0..NAME_ATTEMPTS_MAX {
            let candidate = Self::draw(rng);
            if self.claim(&candidate.0) {
                chosen = Some(candidate);
                break;
            }
        }
        let (core, form, etablissements) = chosen.unwrap_or_else(|| {
            let core = format!("Société {}", id);
            self.claim(&core);
            (core, "SAS", false)
        });
        let mut aliases = Vec::new();
        if rng.chance(20) {
            let alias = format!("{} {}", rng.pick(TRADE_HEADS), Self::surname(rng));
            if self.claim(&alias) {
                aliases.push(alias);
            }
        }
        Customer {
            id,
            core,
            form,
            etablissements,
            aliases,
            ibans: Vec::new(),
        }
    }

    fn draw(rng: &mut Rng) -> (String, &'static str, bool) {
        let roll = rng.below(100);
        if roll < 5 {
            let (form, words) = rng.pick(FOREIGN);
            let core = format!("{} {}", rng.pick(FOREIGN_SURNAMES), rng.pick(words));
            let core = if rng.chance(50) {
                format!("{core} {}", Self::surname(rng))
            } else {
                core
            };
            return (core, form, false);
        }
        let form = if rng.chance(85) {
            *rng.pick(FRENCH_FORMS)
        } else {
            ""
        };
        if roll < 17 {
            let mut core = format!("Établissements {}", Self::surname(rng));
            if rng.chance(40) {
                core.push_str(&format!(" et {}", Self::surname(rng)));
            } else if rng.chance(50) {
                core.push_str(&format!(" {}", rng.pick(PLACES)));
            }
            return (core, form, true);
        }
        let mut core = if roll < 35 {
            format!("{} {}", Self::surname(rng), rng.pick(ACTIVITIES))
        } else {
            format!("{} {}", rng.pick(ACTIVITIES), Self::surname(rng))
        };
        if rng.chance(80) {
            core.push(' ');
            core.push_str(rng.pick::<&str>(PLACES));
        }
        if rng.chance(10) {
            core.push_str(" et Fils");
        }
        (core, form, false)
    }

    /// A name no customer has (for unknown payers and third parties).
    pub fn stranger(&mut self, rng: &mut Rng) -> String {
        for _ in 0..NAME_ATTEMPTS_MAX {
            let name = if rng.chance(50) {
                format!(
                    "{} {} {}",
                    rng.pick(&["M.", "MME", "M. OU MME"]),
                    fold_upper(rng.pick::<&str>(SURNAMES)),
                    fold_upper(&Self::surname(rng))
                )
            } else {
                format!(
                    "{} {} {}",
                    fold_upper(rng.pick::<&str>(ACTIVITIES)),
                    fold_upper(&Self::surname(rng)),
                    fold_upper(rng.pick::<&str>(&["HOLDING", "INVEST", "PARTNERS", "CONSEIL"]))
                )
            };
            if !self.taken.contains(&name_key(&name)) {
                return name;
            }
        }
        "PARTICULIER INCONNU".to_string()
    }
}

impl Default for NameBook {
    fn default() -> NameBook {
        NameBook::new()
    }
}

/// How the bank line shows the payer's name: one of the variants payers'
/// banks produce, then truncated to 70 or 35 characters now and then.
pub fn payer_variant(rng: &mut Rng, customer: &Customer) -> String {
    let variant = payer_variant_full(rng, customer);
    match rng.below(10) {
        0 => truncate(&variant, 35),
        1 => truncate(&variant, 70),
        _ => variant,
    }
}

/// A variant of the customer's name or alias, never truncated (for lines
/// where the name is the only evidence).
pub fn payer_variant_full(rng: &mut Rng, customer: &Customer) -> String {
    let core_upper = fold_upper(&customer.core);
    let form_upper = fold_upper(customer.form);
    let with_form = |core: &str| {
        if form_upper.is_empty() {
            core.to_string()
        } else {
            format!("{core} {form_upper}")
        }
    };
    match rng.below(9) {
        0 => customer.legal_name(),
        1 | 2 => with_form(&core_upper),
        3 => core_upper.clone(),
        4 if !form_upper.is_empty() => format!("{form_upper} {core_upper}"),
        5 if customer.etablissements => with_form(&core_upper.replacen("ETABLISSEMENTS", "ETS", 1)),
        6 => {
            let mut words: Vec<&str> = core_upper.split(' ').collect();
            if words.len() >= 2 {
                words.swap(0, 1);
            }
            with_form(&words.join(" "))
        }
        7 if !customer.aliases.is_empty() => fold_upper(rng.pick::<String>(&customer.aliases)),
        _ => with_form(&core_upper),
    }
}
