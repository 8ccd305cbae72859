//! First start: the demo workspace and three users. Passwords come from the settings or are
//! generated and printed once; they are never logged.

use crate::catalog::Catalog;
use crate::config::SeedUsers;
use crate::domain::Role;
use crate::store::Store;
use crate::web::auth::hash_password;
use secrecy::{ExposeSecret, SecretString};

/// A user created on this start, with the password to print when it was generated.
pub struct CreatedUser {
    pub username: &'static str,
    pub role: Role,
    pub generated_password: Option<String>,
}

/// Seeds whatever is missing: the workspace, then the users. Returns the users it created.
pub async fn seed_if_empty(store: &Store, users: &SeedUsers) -> anyhow::Result<Vec<CreatedUser>> {
    if !store.has_workspace().await? && store.seed_workspace(&Catalog::demo()?).await? {
        tracing::info!("seeded the demo workspace");
    }
    if store.count_users().await? > 0 {
        return Ok(Vec::new());
    }
    let wanted = [
        ("admin", Role::Admin, &users.admin_password),
        ("manager", Role::Manager, &users.manager_password),
        ("rep", Role::Rep, &users.rep_password),
    ];
    let mut created = Vec::new();
    for (username, role, configured) in wanted {
        let (password, generated) = match configured {
            Some(secret) => (secret.clone(), None),
            None => {
                let p = generate_password();
                (SecretString::from(p.clone()), Some(p))
            }
        };
        let hash = tokio::task::spawn_blocking(move || hash_password(password.expose_secret())).await??;
        store.create_user(username, role, &hash).await?;
        created.push(CreatedUser {
            username,
            role,
            generated_password: generated,
        });
    }
    Ok(created)
}

fn generate_password() -> String {
    crate::web::auth::random_token()[..20].to_owned()
}
