//! Who may use the admin API: the bearer of an admin macaroon (`Authorization: Bearer <hex>`).
//!
//! The root key is 32 random bytes kept in the store's settings (`admin.root_key`), created at
//! the first start, so every instance sharing the store accepts the same macaroons. Two are
//! written to the data directory (mode 0600, hex): `admin.macaroon` (full access) and
//! `admin-readonly.macaroon` (the same with the caveat `role = read`). A holder may attenuate
//! either with more caveats; the ones understood are `role = read` and `expires = <unix
//! seconds>`. Any other caveat, a third-party caveat, a foreign identifier or a bad signature
//! refuses the macaroon (the signature is compared in constant time).

use std::path::{Path, PathBuf};

use l402_macaroon::{Macaroon, RootKey};
use l402_store::Store;

pub use l402_admin_client::{FULL_MACAROON_FILE, READ_ONLY_MACAROON_FILE};

/// The setting holding the root key (hex).
const ROOT_KEY_SETTING: &str = "admin.root_key";
/// The identifier of every admin macaroon.
const IDENTIFIER: &[u8] = b"l402-admin/v1";
/// Longest `Authorization` value looked at (a macaroon with a few caveats is ~200 hex chars).
const MAX_CREDENTIAL_CHARS: usize = 8 * 1024;

/// What a macaroon lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read: status, stats, listings.
    Read,
    /// Everything: also revoke, restore, rotate keys.
    Full,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` value.
    #[error(
        "no admin macaroon: send `Authorization: Bearer <hex of admin.macaroon>` (it is in the \
         seller's data directory)"
    )]
    Missing,
    /// Not hex, not a macaroon, or too long.
    #[error("the admin macaroon is malformed (expected the hex text of admin.macaroon)")]
    Malformed,
    /// Wrong identifier or signature: not minted by this seller's root key.
    #[error("the admin macaroon was not issued by this seller (or was altered)")]
    Forged,
    /// Its `expires` caveat has passed.
    #[error("the admin macaroon has expired")]
    Expired,
    /// A caveat this seller does not understand.
    #[error("the admin macaroon has a caveat this seller does not understand: {0}")]
    UnknownCaveat(String),
}

/// Why the admin credentials could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Reading or creating the root key in the store.
    #[error("reading or creating the admin root key in the store")]
    Store(#[source] l402_store::StoreError),
    /// The stored root key is not 64 hex characters.
    #[error("the stored admin root key (setting `{ROOT_KEY_SETTING}`) is not 64 hex characters")]
    BadRootKey,
    /// Writing a macaroon file.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Checks admin macaroons.
pub struct AdminAuth {
    root: RootKey,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminAuth(<root key redacted>)")
    }
}

impl AdminAuth {
    /// The root key from `store` (created now if none), with both macaroon files written to
    /// `data_dir` unless they already hold valid macaroons. Blocking: call at start.
    pub fn load_or_create(store: &Store, data_dir: &Path) -> Result<Self, SetupError> {
        let fresh = l402_lightning::dev::generate_access_token();
        let stored = store
            .settings()
            .get_or_insert(ROOT_KEY_SETTING, &fresh)
            .map_err(SetupError::Store)?;
        let bytes = hex::decode(stored.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or(SetupError::BadRootKey)?;
        let auth = Self {
            root: RootKey::new(bytes),
        };
        for (file, role) in [
            (FULL_MACAROON_FILE, Role::Full),
            (READ_ONLY_MACAROON_FILE, Role::Read),
        ] {
            let path = data_dir.join(file);
            let current = std::fs::read_to_string(&path).ok();
            if current.is_some_and(|text| auth.check_value(text.trim(), 0) == Ok(role)) {
                continue;
            }
            let text = hex::encode(auth.mint(role).encode_v2());
            l402_store::write_private_file(&path, text.as_bytes())
                .map_err(|source| SetupError::Write { path, source })?;
        }
        Ok(auth)
    }

    /// A new macaroon for `role`.
    pub fn mint(&self, role: Role) -> Macaroon {
        let mut macaroon = Macaroon::new(&self.root, IDENTIFIER.to_vec(), None);
        if role == Role::Read {
            macaroon.add_first_party_caveat(b"role = read".to_vec());
        }
        macaroon
    }

    /// The role an `Authorization` header value grants at `now` (Unix seconds).
    pub fn check(&self, authorization: Option<&str>, now: u64) -> Result<Role, AuthError> {
        let value = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AuthError::Missing)?;
        self.check_value(value.trim(), now)
    }

    fn check_value(&self, hex_text: &str, now: u64) -> Result<Role, AuthError> {
        if hex_text.len() > MAX_CREDENTIAL_CHARS {
            return Err(AuthError::Malformed);
        }
        let bytes = hex::decode(hex_text).map_err(|_| AuthError::Malformed)?;
        let macaroon = Macaroon::decode_v2(&bytes).map_err(|_| AuthError::Malformed)?;
        if macaroon.identifier() != IDENTIFIER || macaroon.verify(&self.root).is_err() {
            return Err(AuthError::Forged);
        }
        let mut role = Role::Full;
        for caveat in macaroon.first_party_caveats() {
            let text = std::str::from_utf8(caveat).unwrap_or("");
            let (key, value) = text
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .unwrap_or((text, ""));
            match (key, value) {
                ("role", "read") => role = Role::Read,
                ("role", "full") => {}
                ("expires", at) => match at.parse::<u64>() {
                    // `now == 0` is the files' own check at start: expiry is not theirs.
                    Ok(at) if now == 0 || now < at => {}
                    Ok(_) => return Err(AuthError::Expired),
                    Err(_) => {
                        return Err(AuthError::UnknownCaveat(text.chars().take(64).collect()));
                    }
                },
                _ => return Err(AuthError::UnknownCaveat(text.chars().take(64).collect())),
            }
        }
        Ok(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> AdminAuth {
        AdminAuth {
            root: RootKey::new(vec![7; 32]),
        }
    }

    fn bearer(m: &Macaroon) -> String {
        format!("Bearer {}", hex::encode(m.encode_v2()))
    }

    #[test]
    fn full_and_read_only_macaroons_grant_their_role() {
        let a = auth();
        assert_eq!(
            a.check(Some(&bearer(&a.mint(Role::Full))), 100),
            Ok(Role::Full)
        );
        assert_eq!(
            a.check(Some(&bearer(&a.mint(Role::Read))), 100),
            Ok(Role::Read)
        );
    }

    #[test]
    fn a_holder_can_attenuate_but_not_widen() {
        let a = auth();
        let mut m = a.mint(Role::Full);
        m.add_first_party_caveat(b"role = read".to_vec());
        m.add_first_party_caveat(b"expires = 200".to_vec());
        assert_eq!(a.check(Some(&bearer(&m)), 199), Ok(Role::Read));
        assert_eq!(a.check(Some(&bearer(&m)), 200), Err(AuthError::Expired));
        // `role = full` after `role = read` does not widen: read stays read.
        let mut widened = a.mint(Role::Read);
        widened.add_first_party_caveat(b"role = full".to_vec());
        assert_eq!(a.check(Some(&bearer(&widened)), 1), Ok(Role::Read));
        let mut unknown = a.mint(Role::Full);
        unknown.add_first_party_caveat(b"ip = 10.0.0.1".to_vec());
        assert!(matches!(
            a.check(Some(&bearer(&unknown)), 1),
            Err(AuthError::UnknownCaveat(_))
        ));
    }

    #[test]
    fn foreign_forged_and_malformed_credentials_are_refused() {
        let a = auth();
        let other = AdminAuth {
            root: RootKey::new(vec![8; 32]),
        };
        assert_eq!(
            a.check(Some(&bearer(&other.mint(Role::Full))), 1),
            Err(AuthError::Forged)
        );
        let foreign = Macaroon::new(&a.root, b"l402-admin/v2".to_vec(), None);
        assert_eq!(a.check(Some(&bearer(&foreign)), 1), Err(AuthError::Forged));
        // Stripping the read-only caveat breaks the signature chain.
        let read = a.mint(Role::Read);
        let bytes = read.encode_v2();
        let mut tampered = bytes.clone();
        let at = tampered
            .windows(4)
            .position(|w| w == b"read")
            .expect("caveat text in the encoding");
        tampered[at..at + 4].copy_from_slice(b"full");
        let tampered = format!("Bearer {}", hex::encode(tampered));
        assert_eq!(a.check(Some(&tampered), 1), Err(AuthError::Forged));
        assert_eq!(a.check(None, 1), Err(AuthError::Missing));
        assert_eq!(a.check(Some("Basic abc"), 1), Err(AuthError::Missing));
        assert_eq!(a.check(Some("Bearer zz"), 1), Err(AuthError::Malformed));
        assert_eq!(a.check(Some("Bearer 0102"), 1), Err(AuthError::Malformed));
        let long = format!("Bearer {}", "0".repeat(MAX_CREDENTIAL_CHARS + 2));
        assert_eq!(a.check(Some(&long), 1), Err(AuthError::Malformed));
    }

    #[test]
    fn files_are_written_once_and_shared_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("l402.db")).unwrap();
        let first = AdminAuth::load_or_create(&store, dir.path()).unwrap();
        let full = std::fs::read_to_string(dir.path().join(FULL_MACAROON_FILE)).unwrap();
        let read = std::fs::read_to_string(dir.path().join(READ_ONLY_MACAROON_FILE)).unwrap();
        assert_eq!(
            first.check(Some(&format!("Bearer {full}")), 1),
            Ok(Role::Full)
        );
        assert_eq!(
            first.check(Some(&format!("Bearer {read}")), 1),
            Ok(Role::Read)
        );
        // A second instance on the same store accepts the same macaroons and keeps the files.
        let second = AdminAuth::load_or_create(&store, dir.path()).unwrap();
        assert_eq!(
            second.check(Some(&format!("Bearer {full}")), 1),
            Ok(Role::Full)
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(FULL_MACAROON_FILE)).unwrap(),
            full
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FULL_MACAROON_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
