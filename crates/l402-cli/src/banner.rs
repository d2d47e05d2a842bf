//! The dev-mode banner: impossible to miss, impossible to confuse with production.

/// Prints the dev-mode banner to stderr.
pub fn dev_mode(wallet_url: &str) {
    eprintln!(
        "\n\
         ################################################################################\n\
         ##  DEV MODE: embedded dev wallet on regtest. The invoices are real signed      ##\n\
         ##  BOLT11 (lnbcrt...), but no Lightning node and no real money is involved.   ##\n\
         ##  Do not expose this to the internet. For production set [backend] in the   ##\n\
         ##  config file (lnd, lnbits, nwc, cln); dev mode refuses mainnet.             ##\n\
         ################################################################################\n\
         dev wallet API (loopback only): {wallet_url}\n"
    );
}
