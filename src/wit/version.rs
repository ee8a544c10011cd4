//! The semver-compatibility rule wasmtime applies when it matches versioned interface names.

use semver::Version;

/// Whether a component built against `found` satisfies a host that expects `expected`.
///
/// This is the rule of wasmtime's `alternate_lookup_key`: a version is reduced to
/// its semver track, and two versions are compatible when their tracks are equal.
/// The track is the major version when it is not zero (`1.2.0` and `1.0.0` are
/// both on track `1`), the minor version when the major is zero (`0.1.5` and
/// `0.1.0` are on `0.1`, `0.2.0` is not), and the full version for `0.0.x` and
/// for pre-releases. Build metadata never matters.
pub fn is_compatible(expected: &Version, found: &Version) -> bool {
    if !expected.pre.is_empty() || !found.pre.is_empty() {
        return expected.major == found.major
            && expected.minor == found.minor
            && expected.patch == found.patch
            && expected.pre == found.pre;
    }
    if expected.major != found.major {
        return false;
    }
    if expected.major > 0 {
        return true;
    }
    if expected.minor != found.minor {
        return false;
    }
    expected.minor > 0 || expected.patch == found.patch
}

/// Same as [`is_compatible`] for optional versions: an unversioned name only matches
/// an unversioned name, as wasmtime compares such names literally.
pub fn is_compatible_opt(expected: Option<&Version>, found: Option<&Version>) -> bool {
    match (expected, found) {
        (None, None) => true,
        (Some(expected), Some(found)) => is_compatible(expected, found),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compatible(expected: &str, found: &str) -> bool {
        let parse = |text: &str| Version::parse(text).unwrap();
        is_compatible(&parse(expected), &parse(found))
    }

    #[test]
    fn major_track() {
        assert!(compatible("1.0.0", "1.2.0"));
        assert!(compatible("1.2.0", "1.0.0"));
        assert!(!compatible("1.0.0", "2.0.0"));
    }

    #[test]
    fn zero_major_uses_minor_as_breaking_part() {
        assert!(compatible("0.1.0", "0.1.5"));
        assert!(!compatible("0.1.0", "0.2.0"));
        assert!(!compatible("0.1.0", "1.1.0"));
    }

    #[test]
    fn zero_zero_and_prerelease_are_exact() {
        assert!(compatible("0.0.1", "0.0.1"));
        assert!(!compatible("0.0.1", "0.0.2"));
        assert!(!compatible("0.1.0-rc.1", "0.1.0-rc.2"));
        assert!(!compatible("0.1.0", "0.1.1-rc.1"));
        assert!(compatible("0.1.0-rc.1", "0.1.0-rc.1+build"));
    }

    #[test]
    fn unversioned_names_match_only_each_other() {
        let version = Version::new(0, 1, 0);
        assert!(is_compatible_opt(None, None));
        assert!(!is_compatible_opt(Some(&version), None));
        assert!(!is_compatible_opt(None, Some(&version)));
    }
}
