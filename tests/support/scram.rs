//! The server side of SCRAM (RFC 5802, RFC 7677) for the test front, so a
//! client's SCRAM-SHA-256 and SCRAM-SHA-512 logins are checked against a
//! known password, as a broker with a SCRAM listener checks them.

use base64::Engine as _;
use ring::{digest, hmac, pbkdf2};

const ITERATIONS: u32 = 4096;

/// SCRAM-SHA-256 or SCRAM-SHA-512.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scram {
    Sha256,
    Sha512,
}

impl Scram {
    /// The mechanism's SASL name.
    pub fn name(self) -> &'static str {
        match self {
            Scram::Sha256 => "SCRAM-SHA-256",
            Scram::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Scram::Sha256 => hmac::HMAC_SHA256,
            Scram::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Scram::Sha256 => &digest::SHA256,
            Scram::Sha512 => &digest::SHA512,
        }
    }

    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            Scram::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            Scram::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One login in progress.
pub struct ScramServer {
    mechanism: Scram,
    user: String,
    password: String,
    salt: Vec<u8>,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

impl ScramServer {
    /// Expects `user` with `password`.
    pub fn new(mechanism: Scram, user: &str, password: &str) -> ScramServer {
        ScramServer {
            mechanism,
            user: user.into(),
            password: password.into(),
            salt: b"qscale-test-salt".to_vec(),
            client_first_bare: String::new(),
            server_first: String::new(),
            nonce: String::new(),
        }
    }

    /// The client's first message (`n,,n=user,r=nonce`) in, the server's
    /// first out; an error for another user.
    pub fn first(&mut self, client_first: &[u8]) -> Result<Vec<u8>, String> {
        let text = String::from_utf8_lossy(client_first).into_owned();
        let bare = text
            .splitn(3, ',')
            .nth(2)
            .ok_or("client-first without a GS2 header")?
            .to_string();
        let field = |name: &str| {
            bare.split(',')
                .find_map(|f| f.strip_prefix(name))
                .map(str::to_string)
        };
        let user = field("n=").ok_or("no user")?;
        if user != self.user {
            return Err(format!("unknown user {user}"));
        }
        let client_nonce = field("r=").ok_or("no nonce")?;
        self.nonce = format!("{client_nonce}qscaleserver");
        self.server_first = format!("r={},s={},i={ITERATIONS}", self.nonce, b64(&self.salt));
        self.client_first_bare = bare;
        Ok(self.server_first.clone().into_bytes())
    }

    /// The client's final message in, the server's final (its signature)
    /// out; an error when the proof does not match the password.
    pub fn last(&self, client_final: &[u8]) -> Result<Vec<u8>, String> {
        let text = String::from_utf8_lossy(client_final).into_owned();
        let (without_proof, proof) = text.rsplit_once(",p=").ok_or("no proof")?;
        if !without_proof.contains(&format!("r={}", self.nonce)) {
            return Err("nonce mismatch".into());
        }
        let proof = base64::engine::general_purpose::STANDARD
            .decode(proof)
            .map_err(|e| e.to_string())?;
        let m = self.mechanism;
        let len = m.digest().output_len();
        let mut salted = vec![0u8; len];
        pbkdf2::derive(
            m.pbkdf2(),
            std::num::NonZeroU32::new(ITERATIONS).unwrap(),
            &self.salt,
            self.password.as_bytes(),
            &mut salted,
        );
        let key = hmac::Key::new(m.hmac(), &salted);
        let client_key = hmac::sign(&key, b"Client Key");
        let stored_key = digest::digest(m.digest(), client_key.as_ref());
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let signature = hmac::sign(
            &hmac::Key::new(m.hmac(), stored_key.as_ref()),
            auth_message.as_bytes(),
        );
        let expected: Vec<u8> = client_key
            .as_ref()
            .iter()
            .zip(signature.as_ref())
            .map(|(a, b)| a ^ b)
            .collect();
        if expected != proof {
            return Err("wrong password".into());
        }
        let server_key = hmac::sign(&key, b"Server Key");
        let server_signature = hmac::sign(
            &hmac::Key::new(m.hmac(), server_key.as_ref()),
            auth_message.as_bytes(),
        );
        Ok(format!("v={}", b64(server_signature.as_ref())).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677, section 3: the SCRAM-SHA-256 example exchange (user
    /// "user", password "pencil"), with its salt and nonces.
    #[test]
    fn rfc_7677_example() {
        let mut s = ScramServer::new(Scram::Sha256, "user", "pencil");
        s.salt = base64::engine::general_purpose::STANDARD
            .decode("W22ZaJ0SNY7soEsUEjb6gQ==")
            .unwrap();
        s.first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO").unwrap();
        // The RFC's server nonce, in place of ours.
        s.nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into();
        s.server_first = format!("r={},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", s.nonce);
        let last = s
            .last(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap();
        assert_eq!(
            String::from_utf8(last).unwrap(),
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        let wrong = ScramServer {
            password: "pencils".into(),
            ..s
        };
        assert!(wrong
            .last(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .is_err());
    }
}
