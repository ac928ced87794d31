//! The date tag of `SOURCE_DATE_EPOCH`, `YYYYMMDDHHMMSS` in UTC: django-cachekiller's fallback
//! when no VCS is found was the clock's date; ours is the date reproducible builds name, and
//! without one, the static files' digest (see [`crate::resolve::tag::resolve_tag`] for why not the clock).

use crate::rules::error::{Error, Result};

/// Formats `seconds` since 1970-01-01 00:00:00 UTC as `YYYYMMDDHHMMSS` (UTC).
///
/// ```
/// assert_eq!(cachekiller_core::__private::date::format_utc_timestamp(0), "19700101000000");
/// ```
#[must_use]
pub fn format_utc_timestamp(seconds: u64) -> String {
    let days = seconds / 86_400;
    let second_of_day = seconds % 86_400;
    let (year, month, day) = civil_date_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Proleptic Gregorian date of the `days`-th day after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, restricted to non-negative days): no date crate for one conversion.
fn civil_date_from_days(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468; // days since 0000-03-01
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The date tag of `SOURCE_DATE_EPOCH` (reproducible builds).
///
/// # Errors
/// [`Error::InvalidSourceDateEpoch`] if `source_date_epoch` is not a whole number of seconds.
pub fn build_date_tag(source_date_epoch: &str) -> Result<String> {
    let seconds =
        source_date_epoch
            .trim()
            .parse::<u64>()
            .map_err(|_| Error::InvalidSourceDateEpoch {
                value: source_date_epoch.to_owned(),
            })?;
    Ok(format_utc_timestamp(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// GNU `date -u -d @N +%Y%m%d%H%M%S`, the oracle.
    fn gnu_date(seconds: u64) -> String {
        let output = Command::new("date")
            .args(["-u", "-d", &format!("@{seconds}"), "+%Y%m%d%H%M%S"])
            .output()
            .expect("GNU date runs");
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn formats_like_gnu_date() {
        let mut instants = vec![
            0,
            59,
            86_399,
            86_400,
            951_782_400,   // 2000-02-29, a leap day of a century leap year
            4_107_542_399, // 2100-02-28 23:59:59, 2100 is not a leap year
            4_107_542_400,
            1_700_000_000,
            253_402_300_799, // 9999-12-31 23:59:59
        ];
        // Plus a spread of ordinary instants, one every ~97 days for 80 years.
        instants.extend((0..300u64).map(|step| step * 8_380_417 + 12_345));
        for seconds in instants {
            assert_eq!(
                format_utc_timestamp(seconds),
                gnu_date(seconds),
                "at {seconds}"
            );
        }
    }

    #[test]
    fn the_date_of_source_date_epoch() {
        assert_eq!(
            build_date_tag("1234567890").unwrap(),
            gnu_date(1_234_567_890)
        );
        assert_eq!(
            build_date_tag(" 1800000000\n").unwrap(),
            gnu_date(1_800_000_000)
        );
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in ["", "yesterday", "-1", "1.5", "0x10"] {
            assert_eq!(
                build_date_tag(bad),
                Err(Error::InvalidSourceDateEpoch {
                    value: bad.to_owned()
                })
            );
        }
    }
}
