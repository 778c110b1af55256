//! Unit tests of the lock's pure parts: Lease names, holder names and expiry.
//! Never contacts a cluster.

use super::*;

#[test]
fn lease_names_are_dns_subdomains() {
    let classifier: Classifier = "Stable_v1.2".parse().unwrap();
    assert_eq!(lease_name(&classifier), "kubectl-update-stable-v1-2");
}

#[test]
fn holder_names_host_pid_and_run() {
    let holder = holder_identity();
    let parts: Vec<&str> = holder.split('/').collect();
    assert_eq!(parts.len(), 3, "{holder}");
    assert_eq!(parts[1], std::process::id().to_string());
    assert_ne!(holder_identity(), holder, "a fresh run id each time");
}

#[test]
fn expiry_follows_renew_time_and_duration() {
    let mut lease = lease("ns", "l", "me");
    let until = valid_until(&lease).unwrap();
    assert!(until > now_seconds() + 25.0);
    lease.spec.as_mut().unwrap().renew_time =
        Some(MicroTime(Timestamp::from_second(1_000).unwrap()));
    assert!(valid_until(&lease).unwrap() < now_seconds());
    lease.spec.as_mut().unwrap().renew_time = Some(MicroTime(
        Timestamp::from_second(Timestamp::now().as_second() + 86_400).unwrap(),
    ));
    assert!(
        valid_until(&lease).unwrap() < now_seconds(),
        "a renewal a day ahead is not believed"
    );
    lease.spec.as_mut().unwrap().renew_time = Some(MicroTime(
        Timestamp::from_second(Timestamp::now().as_second() + 20).unwrap(),
    ));
    assert!(
        valid_until(&lease).unwrap() > now_seconds() + 40.0,
        "a clock a little ahead is"
    );
    lease.spec.as_mut().unwrap().holder_identity = Some(String::new());
    assert_eq!(valid_until(&lease), None);
}
