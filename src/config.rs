//! The run's configuration: every threshold of the matching policy and every
//! account of the journal, with the policy's defaults.
//!
//! Read from TOML (`--config FILE`); an unknown key is an error, so a typo
//! never silently falls back to a default. `recon config --defaults` prints
//! `Config::default()` in full, and the manifest records the config as
//! resolved, so a run can be replayed with exactly what decided it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What to do with two or more open items of the same amount when nothing
/// but the amount tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Twins {
    /// Settle the one with the oldest due date (then issue date, then id).
    Oldest,
    /// Route the line to review as `ambiguous`.
    Review,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Largest |paid - due| settled with a `writeoff` row (658/758), in the
    /// line's currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub writeoff_max: Decimal,
    pub twins: Twins,
    /// Lowest similarity (0..1, Jaro-Winkler on normalised names) at which a
    /// payer name identifies a customer.
    pub name_similarity_min: f64,
    /// Largest number of open items combined to explain one amount.
    pub subset_max_items: usize,
    /// How many of a customer's oldest open items the combination search
    /// looks at; beyond them only references and advices settle.
    pub subset_max_candidates: usize,
    /// Combinations tried per line before the search gives up (the line then
    /// goes to review): bounds the worst case of a customer with many items
    /// of similar amounts.
    pub subset_max_steps: u64,
    /// Days between an advice's payment date and the bank line's value date
    /// for an advice linked by payer and amount (not by reference).
    pub advice_window_days: i64,
    /// Largest gap between a converted payment and the invoices it settles,
    /// as a fraction of what is due (`0.01` = 1 %): a payment the bank
    /// converted (another currency instructed, an exchange rate given) that
    /// lands within it settles the invoices, the gap booked as `fx`
    /// (656/756); beyond it the line is `currency_mismatch` (invoices in
    /// another currency) or follows the ordinary rules (invoices in the
    /// line's).
    #[serde(with = "rust_decimal::serde::str")]
    pub fx_tolerance: Decimal,
    pub journal: Journal,
    pub accounts: Accounts,
}

/// The journal the FEC entries are written to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Journal {
    pub code: String,
    pub label: String,
}

/// Account numbers of the French chart of accounts the journal uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Accounts {
    /// Bank account (512) used for a statement account not in `bank`.
    pub bank_default: String,
    /// Statement account id (IBAN or bank account id) -> 512 sub-account.
    pub bank: BTreeMap<String, String>,
    pub customers: String,
    pub suspense: String,
    pub bank_fees: String,
    pub discounts_granted: String,
    pub payment_difference_loss: String,
    pub payment_difference_gain: String,
    pub exchange_loss: String,
    pub exchange_gain: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            writeoff_max: Decimal::new(500, 2),
            twins: Twins::Oldest,
            name_similarity_min: 0.92,
            subset_max_items: 6,
            subset_max_candidates: 40,
            subset_max_steps: 200_000,
            advice_window_days: 10,
            fx_tolerance: Decimal::new(1, 2),
            journal: Journal::default(),
            accounts: Accounts::default(),
        }
    }
}

impl Default for Journal {
    fn default() -> Journal {
        Journal {
            code: "BQ".to_string(),
            label: "Banque".to_string(),
        }
    }
}

impl Default for Accounts {
    fn default() -> Accounts {
        Accounts {
            bank_default: "512000".to_string(),
            bank: BTreeMap::new(),
            customers: "411000".to_string(),
            suspense: "471000".to_string(),
            bank_fees: "627000".to_string(),
            discounts_granted: "665000".to_string(),
            payment_difference_loss: "658000".to_string(),
            payment_difference_gain: "758000".to_string(),
            exchange_loss: "656000".to_string(),
            exchange_gain: "756000".to_string(),
        }
    }
}

impl Config {
    /// Reads TOML; errors say which key and why.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// The config as TOML, defaults included (what `recon config --defaults`
    /// prints and the manifest records).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), String> {
        if self.writeoff_max.is_sign_negative() {
            return Err(format!(
                "writeoff_max must not be negative, found {}",
                self.writeoff_max
            ));
        }
        if self.fx_tolerance.is_sign_negative() || self.fx_tolerance >= Decimal::ONE {
            return Err(format!(
                "fx_tolerance is a fraction of the amount due, from 0 up to (not including) 1, found {}",
                self.fx_tolerance
            ));
        }
        if !(0.0..=1.0).contains(&self.name_similarity_min) {
            return Err(format!(
                "name_similarity_min must be between 0 and 1, found {}",
                self.name_similarity_min
            ));
        }
        if self.subset_max_items > 12 {
            return Err(format!(
                "subset_max_items is at most 12 (the search grows combinatorially), found {}",
                self.subset_max_items
            ));
        }
        if self.subset_max_candidates > 200 {
            return Err(format!(
                "subset_max_candidates is at most 200, found {}",
                self.subset_max_candidates
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_unknown_keys_fail() {
        let defaults = Config::default();
        let text = defaults.to_toml();
        assert!(text.contains("writeoff_max = \"5.00\""), "{text}");
        assert!(text.contains("twins = \"oldest\""), "{text}");
        assert_eq!(Config::from_toml(&text).unwrap(), defaults);
        let partial =
            Config::from_toml("writeoff_max = \"1.50\"\n[accounts]\nsuspense = \"471100\"\n")
                .unwrap();
        assert_eq!(partial.writeoff_max.to_string(), "1.50");
        assert_eq!(partial.accounts.suspense, "471100");
        assert_eq!(partial.accounts.bank_fees, "627000");
        let error = Config::from_toml("writeoff_maxx = \"1\"").unwrap_err();
        assert!(error.contains("writeoff_maxx"), "{error}");
        assert!(Config::from_toml("[accounts]\nfoo = \"1\"").is_err());
        assert!(Config::from_toml("twins = \"newest\"").is_err());
        assert!(Config::from_toml("writeoff_max = \"-1\"").is_err());
    }
}
