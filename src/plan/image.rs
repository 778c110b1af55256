//! Container image references: parsing, normalisation and the repository match that decides which
//! containers an update touches.
//!
//! Parsing and docker.io normalisation come from oci-spec's `distribution::Reference`; this module
//! adds the checks that crate leaves loose and the comparison rule: two references name the same
//! repository when registry and path are equal after normalisation, whatever their tag or digest.
//! Pure; never contacts a registry.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use oci_spec::distribution::{ParseError, Reference};

/// An image the user asked to deploy: kept exactly as spelled, plus its normalised repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetImage {
    spelled: String,
    repository: Repository,
}

/// A normalised repository: registry host (with port) and path, e.g. `docker.io/library/nginx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository(String);

impl TargetImage {
    /// The reference exactly as the user wrote it; this is what gets written into manifests.
    pub fn as_str(&self) -> &str {
        &self.spelled
    }

    pub fn repository(&self) -> &Repository {
        &self.repository
    }
}

impl FromStr for TargetImage {
    type Err = String;

    fn from_str(spelled: &str) -> Result<Self, Self::Err> {
        let repository = repository_of(spelled)?;
        Ok(TargetImage {
            spelled: spelled.to_owned(),
            repository,
        })
    }
}

impl fmt::Display for TargetImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelled)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many parsed references each thread remembers: oci-spec matches a large regex on every
/// parse (one per container, 13% of an offline preview's instructions before this cache), and a
/// fleet runs few distinct images.
const CACHED: usize = 4096;

thread_local! {
    static REPOSITORIES: RefCell<HashMap<String, Result<Repository, String>>> =
        RefCell::new(HashMap::new());
    static SAME: RefCell<HashMap<(String, String), bool>> = RefCell::new(HashMap::new());
}

/// `compute(key)`, remembered per thread (forgetting everything when the cache is full).
fn cached<K, V>(
    cache: &'static std::thread::LocalKey<RefCell<HashMap<K, V>>>,
    key: K,
    compute: impl FnOnce(&K) -> V,
) -> V
where
    K: std::hash::Hash + Eq,
    V: Clone,
{
    if let Some(hit) = cache.with_borrow(|it| it.get(&key).cloned()) {
        return hit;
    }
    let value = compute(&key);
    cache.with_borrow_mut(|it| {
        if it.len() >= CACHED {
            it.clear();
        }
        it.insert(key, value.clone());
    });
    value
}

/// Parses an image reference and returns its normalised repository, or a message saying what is
/// wrong with it (the caller names the value).
pub fn repository_of(image: &str) -> Result<Repository, String> {
    cached(&REPOSITORIES, image.to_owned(), |image| {
        parse_repository(image)
    })
}

fn parse_repository(image: &str) -> Result<Repository, String> {
    if image.is_empty() {
        return Err("an image reference cannot be empty".to_owned());
    }
    if image.trim() != image || image.contains(char::is_whitespace) {
        return Err("an image reference cannot contain spaces".to_owned());
    }
    let name_part = name_part(image);
    if name_part.chars().any(|c| c.is_ascii_uppercase()) && has_uppercase_in_path(name_part) {
        return Err("the repository path must be lowercase".to_owned());
    }
    if let Some((_, tag)) = split_tag(name_part) {
        if tag.is_empty() {
            return Err("the tag after `:` is empty".to_owned());
        }
        if tag.len() > 128 {
            return Err(format!(
                "the tag is {} characters long; at most 128 are allowed",
                tag.len()
            ));
        }
    }
    if let Some((_, digest)) = image.split_once('@') {
        check_digest(digest)?;
    }
    let reference = Reference::from_str(image).map_err(|err| explain(&err))?;
    Ok(Repository(format!(
        "{}/{}",
        reference.registry(),
        reference.repository()
    )))
}

/// Two references name the same image: same repository, tag (`latest` when absent) and digest.
pub fn same_image(left: &str, right: &str) -> bool {
    left == right
        || cached(
            &SAME,
            (left.to_owned(), right.to_owned()),
            |(left, right)| {
                matches!(
                    (Reference::from_str(left), Reference::from_str(right)),
                    (Ok(left), Ok(right)) if left.whole() == right.whole()
                )
            },
        )
}

/// A digest is `algorithm:hex`, with as many hex digits as the algorithm needs.
fn check_digest(digest: &str) -> Result<(), String> {
    if digest.is_empty() {
        return Err("the digest after `@` is empty".to_owned());
    }
    let malformed = || format!("the digest {digest:?} must look like `sha256:<64 hex digits>`");
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(malformed());
    };
    let expected = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "the digest algorithm {algorithm:?} is not one of sha256, sha384 or sha512"
            ));
        }
    };
    if hex.len() != expected
        || !hex
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        return Err(malformed());
    }
    Ok(())
}

/// The reference without its digest (`name[:tag]`).
fn name_part(image: &str) -> &str {
    image.split_once('@').map_or(image, |(name, _)| name)
}

/// Splits `name:tag`, taking care that a colon in the registry host (`host:5000/app`) is a port.
fn split_tag(name: &str) -> Option<(&str, &str)> {
    let last_slash = name.rfind('/').map_or(0, |idx| idx + 1);
    let colon = name[last_slash..].find(':')? + last_slash;
    Some((&name[..colon], &name[colon + 1..]))
}

/// Docker allows uppercase in the registry host and the tag, never in the path.
fn has_uppercase_in_path(name: &str) -> bool {
    let without_tag = split_tag(name).map_or(name, |(repo, _)| repo);
    let path = match without_tag.split_once('/') {
        Some((first, rest)) if looks_like_registry(first) => rest,
        _ => without_tag,
    };
    path.chars().any(|c| c.is_ascii_uppercase())
}

fn looks_like_registry(component: &str) -> bool {
    component.contains('.') || component.contains(':') || component == "localhost"
}

fn explain(err: &ParseError) -> String {
    match err {
        ParseError::DigestInvalidFormat => "the digest must look like `sha256:<64 hex digits>`".to_owned(),
        ParseError::DigestInvalidLength => "the digest has the wrong length for its algorithm".to_owned(),
        ParseError::DigestUnsupported => "the digest algorithm must be sha256, sha384 or sha512".to_owned(),
        ParseError::NameContainsUppercase => "the repository path must be lowercase".to_owned(),
        ParseError::NameEmpty => "the repository name is empty".to_owned(),
        ParseError::NameTooLong => "the repository name is longer than 255 characters".to_owned(),
        ParseError::ReferenceInvalidFormat => {
            "it is not of the form `[registry[:port]/]path[:tag][@digest]`".to_owned()
        }
        ParseError::TagInvalidFormat => {
            "the tag may only hold letters, digits, `_`, `.` and `-` and must not start with `.` or `-`"
                .to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_repo(image: &str, expected: &str) {
        assert_eq!(
            repository_of(image).unwrap().to_string(),
            expected,
            "{image}"
        );
    }

    #[track_caller]
    fn check_invalid(image: &str, expected_fragment: &str) {
        let err = repository_of(image).unwrap_err();
        assert!(err.contains(expected_fragment), "{image}: {err}");
    }

    #[test]
    fn docker_hub_forms_normalise_to_one_repository() {
        for image in [
            "nginx",
            "nginx:1.27",
            "library/nginx",
            "docker.io/nginx",
            "docker.io/library/nginx:latest",
            "index.docker.io/library/nginx",
        ] {
            check_repo(image, "docker.io/library/nginx");
        }
        check_repo("bitnami/redis:7", "docker.io/bitnami/redis");
    }

    #[test]
    fn registry_with_port_is_part_of_the_repository() {
        check_repo(
            "registry.example.com:5000/team/app:1.2.3",
            "registry.example.com:5000/team/app",
        );
        check_repo(
            "registry.example.com/team/app:1.2.3",
            "registry.example.com/team/app",
        );
        check_repo("localhost:5000/app", "localhost:5000/app");
        check_repo("localhost/app", "localhost/app");
        assert_ne!(
            repository_of("registry.example.com:5000/app").unwrap(),
            repository_of("registry.example.com:5001/app").unwrap()
        );
    }

    #[test]
    fn tags_and_digests_do_not_change_the_repository() {
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        check_repo(&format!("ghcr.io/acme/app@{digest}"), "ghcr.io/acme/app");
        check_repo(
            &format!("ghcr.io/acme/app:1.0@{digest}"),
            "ghcr.io/acme/app",
        );
        check_repo("ghcr.io/acme/app:Release_1.0", "ghcr.io/acme/app");
    }

    #[test]
    fn similar_names_are_different_repositories() {
        assert_ne!(
            repository_of("acme/app").unwrap(),
            repository_of("acme/app-worker").unwrap()
        );
        assert_ne!(
            repository_of("acme/app").unwrap(),
            repository_of("acme2/app").unwrap()
        );
        assert_ne!(
            repository_of("ghcr.io/acme/app").unwrap(),
            repository_of("acme/app").unwrap()
        );
    }

    #[test]
    fn invalid_references_say_why() {
        check_invalid("", "cannot be empty");
        check_invalid("acme/App:1", "lowercase");
        check_invalid("acme/app:", "tag after `:` is empty");
        check_invalid(
            "acme/app@sha256:abc",
            "must look like `sha256:<64 hex digits>`",
        );
        check_invalid("acme/app@md5:abc", "sha256, sha384 or sha512");
        check_invalid("acme/app@", "digest after `@` is empty");
        check_invalid(&format!("acme/app:{}", "a".repeat(129)), "at most 128");
        check_invalid("acme/app :1", "spaces");
        check_invalid(" acme/app", "spaces");
        check_invalid("acme//app", "of the form");
        check_invalid("acme/app:-bad", "of the form");
    }

    #[test]
    fn same_image_ignores_spelling() {
        assert!(same_image("acme/app:2", "docker.io/acme/app:2"));
        assert!(same_image("nginx", "docker.io/library/nginx:latest"));
        assert!(!same_image("acme/app:2", "acme/app:3"));
        assert!(!same_image("acme/app:2", "acme/worker:2"));
    }

    #[test]
    fn uppercase_is_fine_in_host_and_tag() {
        check_repo("Registry.Example.com/app:V1", "Registry.Example.com/app");
    }

    #[test]
    fn target_keeps_the_users_spelling() {
        let target: TargetImage = "nginx:1.27".parse().unwrap();
        assert_eq!(target.as_str(), "nginx:1.27");
        assert_eq!(target.repository().to_string(), "docker.io/library/nginx");
    }
}
