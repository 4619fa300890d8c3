//! Resolving host and credentials from flags, environment and config file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use url::Url;

use super::config_file::{ConfigFile, ConfigFileError};

/// What the command line says about the workspace; tokens never come from here
/// as a bare value (shell history, process lists), only from a file or stdin.
#[derive(Clone, Debug, Default)]
pub struct AuthInputs {
    /// `--host`.
    pub host: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--token-file`; `-` reads the token from standard input.
    pub token_file: Option<PathBuf>,
    /// The config file to use instead of `~/.databrickscfg`.
    pub config_file: Option<PathBuf>,
}

/// A resolved workspace: where it is, and how to authenticate.
#[derive(Clone)]
pub struct WorkspaceAuth {
    /// The workspace URL, normalized (scheme, no trailing slash).
    pub host: Url,
    /// The profile the settings came from, if any.
    pub profile: Option<String>,
    /// The credentials.
    pub credentials: Credentials,
}

impl fmt::Debug for WorkspaceAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkspaceAuth")
            .field("host", &self.host.as_str())
            .field("profile", &self.profile)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// How to authenticate; secrets are redacted in `Debug`.
#[derive(Clone)]
pub enum Credentials {
    /// A personal access token, sent as `Authorization: Bearer`.
    Pat(SecretString),
    /// OAuth machine-to-machine: client id and secret traded for tokens.
    OAuthM2M {
        /// The service principal's application (client) id.
        client_id: String,
        /// The OAuth secret.
        client_secret: SecretString,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Pat(_) => f.write_str("Pat([REDACTED])"),
            Credentials::OAuthM2M { client_id, .. } => {
                write!(
                    f,
                    "OAuthM2M {{ client_id: {client_id:?}, client_secret: [REDACTED] }}"
                )
            }
        }
    }
}

impl Credentials {
    /// The auth type's name, as the SDKs spell it.
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::Pat(_) => "pat",
            Credentials::OAuthM2M { .. } => "oauth-m2m",
        }
    }
}

/// Why no usable workspace configuration could be resolved.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No host anywhere.
    #[error(
        "no workspace host: set `DATABRICKS_HOST`, pass `--host`, or pass `--profile` naming a profile in `{}` that has `host`",
        config.display()
    )]
    NoHost {
        /// The config file that was (or would have been) consulted.
        config: PathBuf,
    },
    /// A host but no credentials.
    #[error(
        "no credentials for `{host}`: set `DATABRICKS_TOKEN` (or `DATABRICKS_CLIENT_ID` and `DATABRICKS_CLIENT_SECRET`), pass `--token-file`, or add `token` to {origin}"
    )]
    NoCredentials {
        /// The host.
        host: String,
        /// Which profile or file to fix.
        origin: String,
    },
    /// Both a token and client credentials, and no `auth_type` to choose.
    #[error(
        "both a token and OAuth client credentials are set for `{host}`: unset one, or set `auth_type` to `pat` or `oauth-m2m`"
    )]
    Ambiguous {
        /// The host.
        host: String,
    },
    /// A client id without its secret, or the other way round.
    #[error("`{host}` has `{present}` but not `{missing}`")]
    HalfOAuth {
        /// The host.
        host: String,
        /// The attribute that is set.
        present: &'static str,
        /// The attribute that is missing.
        missing: &'static str,
    },
    /// `auth_type` names something standby does not support.
    #[error("unsupported auth_type `{0}` (standby supports `pat` and `oauth-m2m`)")]
    UnsupportedAuthType(String),
    /// The named profile is not in the config file.
    #[error("profile `{profile}` not found in `{}`", path.display())]
    NoProfile {
        /// The profile name.
        profile: String,
        /// The config file.
        path: PathBuf,
    },
    /// The host is not a URL.
    #[error("`{0}` is not a valid workspace URL")]
    BadHost(String),
    /// The config file is unreadable or malformed.
    #[error(transparent)]
    ConfigFile(#[from] ConfigFileError),
    /// The token file could not be read.
    #[error("failed to read the token from `{}`", path.display())]
    TokenFile {
        /// The file (`-` for stdin).
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The token file is empty.
    #[error("the token file `{}` is empty", path.display())]
    EmptyToken {
        /// The file.
        path: PathBuf,
    },
}

/// Attributes gathered so far; a value already set is never overwritten.
#[derive(Default)]
struct Attrs {
    host: Option<String>,
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    auth_type: Option<String>,
}

impl Attrs {
    fn fill(&mut self, key: &str, value: Option<String>) {
        let slot = match key {
            "host" => &mut self.host,
            "token" => &mut self.token,
            "client_id" => &mut self.client_id,
            "client_secret" => &mut self.client_secret,
            "auth_type" => &mut self.auth_type,
            _ => return,
        };
        if slot.is_none() {
            *slot = value.filter(|v| !v.is_empty());
        }
    }

    fn any_auth(&self) -> bool {
        self.host.is_some()
            || self.token.is_some()
            || self.client_id.is_some()
            || self.client_secret.is_some()
    }
}

/// Resolves a workspace from command-line inputs, environment and config file.
///
/// `env` looks up environment variables (injected so tests need not touch the
/// process environment); `home` is the home directory for `~/.databrickscfg`.
pub fn resolve(
    inputs: &AuthInputs,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<WorkspaceAuth, AuthError> {
    let mut attrs = Attrs::default();
    attrs.fill("host", inputs.host.clone());
    if let Some(path) = &inputs.token_file {
        attrs.fill("token", Some(read_token(path)?));
    }
    for (key, var) in [
        ("host", "DATABRICKS_HOST"),
        ("token", "DATABRICKS_TOKEN"),
        ("client_id", "DATABRICKS_CLIENT_ID"),
        ("client_secret", "DATABRICKS_CLIENT_SECRET"),
        ("auth_type", "DATABRICKS_AUTH_TYPE"),
    ] {
        attrs.fill(key, env(var));
    }
    let config_path = inputs
        .config_file
        .clone()
        .or_else(|| env("DATABRICKS_CONFIG_FILE").map(PathBuf::from))
        .unwrap_or_else(|| home.unwrap_or(Path::new("~")).join(".databrickscfg"));
    let named = inputs
        .profile
        .clone()
        .or_else(|| env("DATABRICKS_CONFIG_PROFILE"));

    // As the SDKs do: without a named profile, the file is only a fallback
    // when nothing else configured the workspace.
    let mut profile_used = None;
    if named.is_some() || !attrs.any_auth() {
        let file = if config_path.exists() || named.is_some() {
            Some(ConfigFile::read(&config_path)?)
        } else {
            None
        };
        if let Some(file) = file {
            let name = named.clone().unwrap_or_else(|| file.default_profile());
            match file.profiles.get(&name) {
                Some(section) => {
                    apply_section(&mut attrs, section);
                    profile_used = Some(name);
                }
                None if named.is_some() => {
                    return Err(AuthError::NoProfile {
                        profile: name,
                        path: config_path,
                    });
                }
                None => {}
            }
        }
    }

    let host_text = attrs.host.take().ok_or(AuthError::NoHost {
        config: config_path.clone(),
    })?;
    let host = normalize_host(&host_text)?;
    let host_name = host.as_str().trim_end_matches('/').to_owned();
    let source = match &profile_used {
        Some(p) => format!("profile `{p}` in `{}`", config_path.display()),
        None => format!("a profile in `{}`", config_path.display()),
    };
    let credentials = match (
        attrs.auth_type.as_deref(),
        attrs.token,
        attrs.client_id,
        attrs.client_secret,
    ) {
        (Some(t), ..) if t != "pat" && t != "oauth-m2m" => {
            return Err(AuthError::UnsupportedAuthType(t.to_owned()));
        }
        (Some("pat"), Some(token), ..) | (None, Some(token), None, None) => {
            Credentials::Pat(SecretString::from(token))
        }
        (Some("oauth-m2m"), _, Some(client_id), Some(secret))
        | (None, None, Some(client_id), Some(secret)) => Credentials::OAuthM2M {
            client_id,
            client_secret: SecretString::from(secret),
        },
        (None, Some(_), Some(_), _) | (None, Some(_), _, Some(_)) => {
            return Err(AuthError::Ambiguous { host: host_name });
        }
        (_, _, Some(_), None) => {
            return Err(AuthError::HalfOAuth {
                host: host_name,
                present: "client_id",
                missing: "client_secret",
            });
        }
        (_, _, None, Some(_)) => {
            return Err(AuthError::HalfOAuth {
                host: host_name,
                present: "client_secret",
                missing: "client_id",
            });
        }
        _ => {
            return Err(AuthError::NoCredentials {
                host: host_name,
                origin: source,
            });
        }
    };
    Ok(WorkspaceAuth {
        host,
        profile: profile_used,
        credentials,
    })
}

fn apply_section(attrs: &mut Attrs, section: &BTreeMap<String, String>) {
    for key in ["host", "token", "client_id", "client_secret", "auth_type"] {
        attrs.fill(key, section.get(key).cloned());
    }
}

fn read_token(path: &Path) -> Result<String, AuthError> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|source| AuthError::TokenFile {
        path: path.into(),
        source,
    })?;
    let token = text.trim().to_owned();
    if token.is_empty() {
        return Err(AuthError::EmptyToken { path: path.into() });
    }
    Ok(token)
}

/// Normalizes a host as the SDKs do: `https://` when schemeless, no trailing
/// slash, no default port.
pub fn normalize_host(text: &str) -> Result<Url, AuthError> {
    let trimmed = text.trim().trim_end_matches('/');
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|_| AuthError::BadHost(text.to_owned()))?;
    if url.host_str().is_none() || !matches!(url.scheme(), "http" | "https") {
        return Err(AuthError::BadHost(text.to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL would end up in logs and reports.
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn home_with(cfg: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".databrickscfg"), cfg).unwrap();
        dir
    }

    #[test]
    fn environment_wins_over_the_default_profile_and_skips_the_file() {
        let home = home_with("[DEFAULT]\nhost = https://file\ntoken = filetoken\n");
        let env = env_of(&[
            ("DATABRICKS_HOST", "env.example.com"),
            ("DATABRICKS_TOKEN", "envtoken"),
        ]);
        let ws = resolve(&AuthInputs::default(), &env, Some(home.path())).unwrap();
        assert_eq!(ws.host.as_str(), "https://env.example.com/");
        assert!(matches!(&ws.credentials, Credentials::Pat(t) if t.expose_secret() == "envtoken"));
        assert_eq!(ws.profile, None);
    }

    #[test]
    fn default_profile_is_used_when_nothing_else_is_set() {
        let home = home_with("[DEFAULT]\nhost = https://file/\ntoken = filetoken\n");
        let ws = resolve(&AuthInputs::default(), &env_of(&[]), Some(home.path())).unwrap();
        assert_eq!(ws.host.as_str(), "https://file/");
        assert_eq!(ws.profile.as_deref(), Some("DEFAULT"));
    }

    #[test]
    fn flags_beat_environment_and_named_profile_fills_the_rest() {
        let home = home_with("[dr]\nhost = https://dr\nclient_id = abc\nclient_secret = s3cr3t\n");
        let inputs = AuthInputs {
            profile: Some("dr".into()),
            host: Some("https://flag".into()),
            ..Default::default()
        };
        let ws = resolve(&inputs, &env_of(&[]), Some(home.path())).unwrap();
        assert_eq!(ws.host.as_str(), "https://flag/");
        assert_eq!(ws.credentials.kind(), "oauth-m2m");
        assert!(!format!("{ws:?}").contains("s3cr3t"));
    }

    #[test]
    fn missing_host_and_credentials_say_what_to_set() {
        let err = resolve(
            &AuthInputs::default(),
            &env_of(&[]),
            Some(Path::new("/nonexistent")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("set `DATABRICKS_HOST`"), "{err}");
        let err = resolve(
            &AuthInputs::default(),
            &env_of(&[("DATABRICKS_HOST", "h")]),
            Some(Path::new("/none")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("set `DATABRICKS_TOKEN`"), "{err}");
        let inputs = AuthInputs {
            profile: Some("nope".into()),
            ..Default::default()
        };
        let home = home_with("[DEFAULT]\n");
        let err = resolve(&inputs, &env_of(&[]), Some(home.path())).unwrap_err();
        assert!(
            err.to_string().starts_with("profile `nope` not found"),
            "{err}"
        );
    }

    #[test]
    fn token_and_client_secret_together_are_ambiguous_unless_auth_type_says() {
        let vars = [
            ("DATABRICKS_HOST", "h"),
            ("DATABRICKS_TOKEN", "t"),
            ("DATABRICKS_CLIENT_ID", "c"),
            ("DATABRICKS_CLIENT_SECRET", "s"),
        ];
        let err = resolve(&AuthInputs::default(), &env_of(&vars), None).unwrap_err();
        assert!(matches!(err, AuthError::Ambiguous { .. }));
        let mut with_type = vars.to_vec();
        with_type.push(("DATABRICKS_AUTH_TYPE", "pat"));
        let ws = resolve(&AuthInputs::default(), &env_of(&with_type), None).unwrap();
        assert_eq!(ws.credentials.kind(), "pat");
    }

    #[test]
    fn token_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok");
        std::fs::write(&path, "dapiXYZ\n").unwrap();
        let inputs = AuthInputs {
            host: Some("h".into()),
            token_file: Some(path),
            ..Default::default()
        };
        let ws = resolve(&inputs, &env_of(&[]), None).unwrap();
        assert!(matches!(&ws.credentials, Credentials::Pat(t) if t.expose_secret() == "dapiXYZ"));
    }

    #[test]
    fn hosts_are_normalized_and_lose_credentials() {
        assert_eq!(
            normalize_host("x.cloud.databricks.com/").unwrap().as_str(),
            "https://x.cloud.databricks.com/"
        );
        assert_eq!(
            normalize_host("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            normalize_host("https://u:p@h").unwrap().as_str(),
            "https://h/"
        );
        assert!(normalize_host("ftp://h").is_err());
    }
}
