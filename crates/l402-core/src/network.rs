//! The Bitcoin networks L402 knows, by name and BOLT11 prefix.

use core::fmt;
use core::str::FromStr;

/// The Bitcoin network an invoice (or a node) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    /// Bitcoin mainnet (BOLT11 prefix `lnbc`).
    Bitcoin,
    /// Bitcoin testnet (BOLT11 prefix `lntb`).
    Testnet,
    /// Bitcoin signet (BOLT11 prefix `lntbs`).
    Signet,
    /// Bitcoin regtest (BOLT11 prefix `lnbcrt`).
    Regtest,
}

impl Network {
    /// Every network, in a fixed order.
    pub const ALL: [Network; 4] = [
        Network::Bitcoin,
        Network::Testnet,
        Network::Signet,
        Network::Regtest,
    ];

    /// The canonical lower-case name, as printed by `Display` and accepted by `FromStr`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Network::Bitcoin => "bitcoin",
            Network::Testnet => "testnet",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// The BOLT11 human-readable prefix of this network's invoices (before the amount).
    pub const fn bolt11_prefix(self) -> &'static str {
        match self {
            Network::Bitcoin => "lnbc",
            Network::Testnet => "lntb",
            Network::Signet => "lntbs",
            Network::Regtest => "lnbcrt",
        }
    }

    /// The `lightning-invoice` currency for this network.
    #[cfg(feature = "bolt11")]
    pub const fn to_currency(self) -> lightning_invoice::Currency {
        match self {
            Network::Bitcoin => lightning_invoice::Currency::Bitcoin,
            Network::Testnet => lightning_invoice::Currency::BitcoinTestnet,
            Network::Signet => lightning_invoice::Currency::Signet,
            Network::Regtest => lightning_invoice::Currency::Regtest,
        }
    }

    /// The network of a `lightning-invoice` currency; `None` for simnet, which L402 does not use.
    #[cfg(feature = "bolt11")]
    pub const fn from_currency(currency: &lightning_invoice::Currency) -> Option<Network> {
        match currency {
            lightning_invoice::Currency::Bitcoin => Some(Network::Bitcoin),
            lightning_invoice::Currency::BitcoinTestnet => Some(Network::Testnet),
            lightning_invoice::Currency::Signet => Some(Network::Signet),
            lightning_invoice::Currency::Regtest => Some(Network::Regtest),
            lightning_invoice::Currency::Simnet => None,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when a string names no known network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown network {input:?}: expected one of bitcoin (or mainnet), testnet, signet, regtest"
)]
pub struct ParseNetworkError {
    /// The string that was given.
    pub input: String,
}

impl FromStr for Network {
    type Err = ParseNetworkError;

    /// Accepts `bitcoin`, `mainnet`, `testnet`, `signet` and `regtest`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bitcoin" | "mainnet" => Ok(Network::Bitcoin),
            "testnet" => Ok(Network::Testnet),
            "signet" => Ok(Network::Signet),
            "regtest" => Ok(Network::Regtest),
            _ => Err(ParseNetworkError {
                input: s.to_owned(),
            }),
        }
    }
}
