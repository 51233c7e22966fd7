//! Approximate visitor location without GeoIP (B04, B05): the browser's IANA time zone names a
//! city and, through this small built-in table, a country. There is no GeoIP database on the
//! server and no network lookup; a trusted reverse proxy's country header (e.g. Cloudflare's
//! `CF-IPCountry`, enabled with `country_header` in the server config) takes precedence.
//!
//! A time zone says where the visitor's computer clock is set, which is good enough for "which
//! team speaks their language" and for the offer's screen-pop, and wrong for travellers.

/// A country as rules (ISO 3166-1 alpha-2 code) and people (English name) see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub country_code: String,
    /// The zone's city, e.g. "New York"; `None` when only the country is known.
    pub city: Option<String>,
}

impl Place {
    /// "New York, United States", or the country name alone.
    pub fn describe(&self) -> String {
        let country = country_name(&self.country_code).unwrap_or(&self.country_code);
        match &self.city {
            Some(city) => format!("{city}, {country}"),
            None => country.to_owned(),
        }
    }
}

/// Time zones by the country they belong to. Not every zone of the tz database, but the ones
/// browsers commonly report; an unknown zone yields no location.
const ZONES: &[(&str, &str)] = &[
    ("Africa/Abidjan", "CI"),
    ("Africa/Accra", "GH"),
    ("Africa/Addis_Ababa", "ET"),
    ("Africa/Algiers", "DZ"),
    ("Africa/Cairo", "EG"),
    ("Africa/Casablanca", "MA"),
    ("Africa/Dar_es_Salaam", "TZ"),
    ("Africa/Johannesburg", "ZA"),
    ("Africa/Kampala", "UG"),
    ("Africa/Khartoum", "SD"),
    ("Africa/Kinshasa", "CD"),
    ("Africa/Lagos", "NG"),
    ("Africa/Nairobi", "KE"),
    ("Africa/Tunis", "TN"),
    ("America/Anchorage", "US"),
    ("America/Argentina/Buenos_Aires", "AR"),
    ("America/Bogota", "CO"),
    ("America/Caracas", "VE"),
    ("America/Chicago", "US"),
    ("America/Denver", "US"),
    ("America/Edmonton", "CA"),
    ("America/Guatemala", "GT"),
    ("America/Halifax", "CA"),
    ("America/Havana", "CU"),
    ("America/Lima", "PE"),
    ("America/Los_Angeles", "US"),
    ("America/Mexico_City", "MX"),
    ("America/Montevideo", "UY"),
    ("America/New_York", "US"),
    ("America/Panama", "PA"),
    ("America/Phoenix", "US"),
    ("America/Puerto_Rico", "PR"),
    ("America/Santiago", "CL"),
    ("America/Santo_Domingo", "DO"),
    ("America/Sao_Paulo", "BR"),
    ("America/St_Johns", "CA"),
    ("America/Toronto", "CA"),
    ("America/Vancouver", "CA"),
    ("America/Winnipeg", "CA"),
    ("Asia/Almaty", "KZ"),
    ("Asia/Amman", "JO"),
    ("Asia/Baghdad", "IQ"),
    ("Asia/Baku", "AZ"),
    ("Asia/Bangkok", "TH"),
    ("Asia/Beirut", "LB"),
    ("Asia/Calcutta", "IN"),
    ("Asia/Colombo", "LK"),
    ("Asia/Dhaka", "BD"),
    ("Asia/Dubai", "AE"),
    ("Asia/Ho_Chi_Minh", "VN"),
    ("Asia/Hong_Kong", "HK"),
    ("Asia/Jakarta", "ID"),
    ("Asia/Jerusalem", "IL"),
    ("Asia/Kabul", "AF"),
    ("Asia/Karachi", "PK"),
    ("Asia/Kathmandu", "NP"),
    ("Asia/Kolkata", "IN"),
    ("Asia/Kuala_Lumpur", "MY"),
    ("Asia/Manila", "PH"),
    ("Asia/Qatar", "QA"),
    ("Asia/Riyadh", "SA"),
    ("Asia/Saigon", "VN"),
    ("Asia/Seoul", "KR"),
    ("Asia/Shanghai", "CN"),
    ("Asia/Singapore", "SG"),
    ("Asia/Taipei", "TW"),
    ("Asia/Tashkent", "UZ"),
    ("Asia/Tbilisi", "GE"),
    ("Asia/Tehran", "IR"),
    ("Asia/Tokyo", "JP"),
    ("Asia/Yerevan", "AM"),
    ("Atlantic/Reykjavik", "IS"),
    ("Australia/Adelaide", "AU"),
    ("Australia/Brisbane", "AU"),
    ("Australia/Melbourne", "AU"),
    ("Australia/Perth", "AU"),
    ("Australia/Sydney", "AU"),
    ("Europe/Amsterdam", "NL"),
    ("Europe/Athens", "GR"),
    ("Europe/Belgrade", "RS"),
    ("Europe/Berlin", "DE"),
    ("Europe/Bratislava", "SK"),
    ("Europe/Brussels", "BE"),
    ("Europe/Bucharest", "RO"),
    ("Europe/Budapest", "HU"),
    ("Europe/Chisinau", "MD"),
    ("Europe/Copenhagen", "DK"),
    ("Europe/Dublin", "IE"),
    ("Europe/Helsinki", "FI"),
    ("Europe/Istanbul", "TR"),
    ("Europe/Kiev", "UA"),
    ("Europe/Kyiv", "UA"),
    ("Europe/Lisbon", "PT"),
    ("Europe/Ljubljana", "SI"),
    ("Europe/London", "GB"),
    ("Europe/Luxembourg", "LU"),
    ("Europe/Madrid", "ES"),
    ("Europe/Minsk", "BY"),
    ("Europe/Moscow", "RU"),
    ("Europe/Oslo", "NO"),
    ("Europe/Paris", "FR"),
    ("Europe/Prague", "CZ"),
    ("Europe/Riga", "LV"),
    ("Europe/Rome", "IT"),
    ("Europe/Sofia", "BG"),
    ("Europe/Stockholm", "SE"),
    ("Europe/Tallinn", "EE"),
    ("Europe/Vienna", "AT"),
    ("Europe/Vilnius", "LT"),
    ("Europe/Warsaw", "PL"),
    ("Europe/Zagreb", "HR"),
    ("Europe/Zurich", "CH"),
    ("Pacific/Auckland", "NZ"),
    ("Pacific/Honolulu", "US"),
];

/// English names of the countries above (and of common proxy-reported ones).
const COUNTRIES: &[(&str, &str)] = &[
    ("AE", "United Arab Emirates"),
    ("AF", "Afghanistan"),
    ("AM", "Armenia"),
    ("AR", "Argentina"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("AZ", "Azerbaijan"),
    ("BD", "Bangladesh"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("BR", "Brazil"),
    ("BY", "Belarus"),
    ("CA", "Canada"),
    ("CD", "DR Congo"),
    ("CH", "Switzerland"),
    ("CI", "Côte d'Ivoire"),
    ("CL", "Chile"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CU", "Cuba"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("DO", "Dominican Republic"),
    ("DZ", "Algeria"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("ES", "Spain"),
    ("ET", "Ethiopia"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("GE", "Georgia"),
    ("GH", "Ghana"),
    ("GR", "Greece"),
    ("GT", "Guatemala"),
    ("HK", "Hong Kong"),
    ("HR", "Croatia"),
    ("HU", "Hungary"),
    ("ID", "Indonesia"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IN", "India"),
    ("IQ", "Iraq"),
    ("IR", "Iran"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JO", "Jordan"),
    ("JP", "Japan"),
    ("KE", "Kenya"),
    ("KR", "South Korea"),
    ("KZ", "Kazakhstan"),
    ("LB", "Lebanon"),
    ("LK", "Sri Lanka"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("MA", "Morocco"),
    ("MD", "Moldova"),
    ("MX", "Mexico"),
    ("MY", "Malaysia"),
    ("NG", "Nigeria"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NP", "Nepal"),
    ("NZ", "New Zealand"),
    ("PA", "Panama"),
    ("PE", "Peru"),
    ("PH", "Philippines"),
    ("PK", "Pakistan"),
    ("PL", "Poland"),
    ("PR", "Puerto Rico"),
    ("PT", "Portugal"),
    ("QA", "Qatar"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("RU", "Russia"),
    ("SA", "Saudi Arabia"),
    ("SD", "Sudan"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SI", "Slovenia"),
    ("SK", "Slovakia"),
    ("TH", "Thailand"),
    ("TN", "Tunisia"),
    ("TR", "Türkiye"),
    ("TW", "Taiwan"),
    ("TZ", "Tanzania"),
    ("UA", "Ukraine"),
    ("UG", "Uganda"),
    ("US", "United States"),
    ("UY", "Uruguay"),
    ("UZ", "Uzbekistan"),
    ("VE", "Venezuela"),
    ("VN", "Vietnam"),
    ("ZA", "South Africa"),
];

/// The English name of a country code from the table, if it has one.
pub fn country_name(code: &str) -> Option<&'static str> {
    COUNTRIES
        .binary_search_by(|(known, _)| known.cmp(&code))
        .ok()
        .map(|index| COUNTRIES[index].1)
}

/// Where a browser with this IANA time zone probably is.
pub fn from_time_zone(zone: &str) -> Option<Place> {
    let (_, country) = ZONES.iter().find(|(known, _)| *known == zone)?;
    let city = zone.rsplit('/').next().map(|city| city.replace('_', " "));
    Some(Place {
        country_code: (*country).to_owned(),
        city,
    })
}

/// A proxy-reported country code, accepted when it is two ASCII letters and names a country
/// (Cloudflare sends `XX` for unknown and `T1` for Tor).
pub fn proxy_country(value: &str) -> Option<String> {
    let value = value.trim();
    let valid = value.len() == 2
        && value.bytes().all(|byte| byte.is_ascii_alphabetic())
        && !value.eq_ignore_ascii_case("XX");
    valid.then(|| value.to_ascii_uppercase())
}

/// The place of a visitor: the proxy's country wins; the time zone adds the city when it agrees
/// with it, and decides alone when there is no proxy country.
pub fn locate(proxy_country: Option<&str>, time_zone: Option<&str>) -> Option<Place> {
    let from_zone = time_zone.and_then(from_time_zone);
    match proxy_country {
        Some(code) => Some(Place {
            country_code: code.to_owned(),
            city: from_zone
                .filter(|place| place.country_code == code)
                .and_then(|place| place.city),
        }),
        None => from_zone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_sorted_and_every_zone_has_a_country_name() {
        assert!(COUNTRIES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        for (zone, country) in ZONES {
            assert!(
                country_name(country).is_some(),
                "{zone} → {country} has no name"
            );
        }
    }

    #[test]
    fn b04_a_time_zone_gives_city_and_country() {
        let place = from_time_zone("America/New_York").expect("known zone");
        assert_eq!(place.country_code, "US");
        assert_eq!(place.describe(), "New York, United States");
        assert_eq!(from_time_zone("Etc/UTC"), None);
        assert_eq!(from_time_zone("Mars/Olympus_Mons"), None);
    }

    #[test]
    fn b04_a_proxy_country_takes_precedence_over_the_time_zone() {
        let place = locate(Some("FR"), Some("Europe/Berlin")).expect("proxy country");
        assert_eq!(place.describe(), "France");
        let agreeing = locate(Some("DE"), Some("Europe/Berlin")).expect("proxy country");
        assert_eq!(agreeing.describe(), "Berlin, Germany");
        assert_eq!(proxy_country("xx"), None);
        assert_eq!(proxy_country("<script>"), None);
        assert_eq!(proxy_country(" de "), Some("DE".to_owned()));
    }
}
