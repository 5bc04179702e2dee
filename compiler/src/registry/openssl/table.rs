//! OpenSSL 3.0's TLS 1.2-and-below cipher names and the alias words of its cipher-string language,
//! with the ciphers each word selects: the data `cipher_string` evaluates a `ciphers` string on.
//! Listed from OpenSSL 3.0's own `openssl ciphers -stdname ALL:COMPLEMENTOFALL` and
//! `openssl ciphers <word>` (a word OpenSSL knows but this build offers nothing for selects none).

/// Every cipher, by OpenSSL name, with its IANA (standard) name.
pub static CIPHERS: &[(&str, &str)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "DHE-DSS-AES256-GCM-SHA384",
        "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
    ),
    (
        "DHE-RSA-AES256-GCM-SHA384",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "DHE-RSA-CHACHA20-POLY1305",
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES256-CCM8",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    ),
    ("ECDHE-ECDSA-AES256-CCM", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"),
    ("DHE-RSA-AES256-CCM8", "TLS_DHE_RSA_WITH_AES_256_CCM_8"),
    ("DHE-RSA-AES256-CCM", "TLS_DHE_RSA_WITH_AES_256_CCM"),
    (
        "ECDHE-ECDSA-ARIA256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384",
    ),
    (
        "ECDHE-ARIA256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384",
    ),
    (
        "DHE-DSS-ARIA256-GCM-SHA384",
        "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384",
    ),
    (
        "DHE-RSA-ARIA256-GCM-SHA384",
        "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384",
    ),
    (
        "ADH-AES256-GCM-SHA384",
        "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "DHE-DSS-AES128-GCM-SHA256",
        "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
    ),
    (
        "DHE-RSA-AES128-GCM-SHA256",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES128-CCM8",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    ),
    ("ECDHE-ECDSA-AES128-CCM", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"),
    ("DHE-RSA-AES128-CCM8", "TLS_DHE_RSA_WITH_AES_128_CCM_8"),
    ("DHE-RSA-AES128-CCM", "TLS_DHE_RSA_WITH_AES_128_CCM"),
    (
        "ECDHE-ECDSA-ARIA128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256",
    ),
    (
        "ECDHE-ARIA128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256",
    ),
    (
        "DHE-DSS-ARIA128-GCM-SHA256",
        "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256",
    ),
    (
        "DHE-RSA-ARIA128-GCM-SHA256",
        "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256",
    ),
    (
        "ADH-AES128-GCM-SHA256",
        "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES256-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    ),
    (
        "ECDHE-RSA-AES256-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    ),
    (
        "DHE-RSA-AES256-SHA256",
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    ),
    (
        "DHE-DSS-AES256-SHA256",
        "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    ),
    (
        "ECDHE-ECDSA-CAMELLIA256-SHA384",
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    ),
    (
        "ECDHE-RSA-CAMELLIA256-SHA384",
        "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",
    ),
    (
        "DHE-RSA-CAMELLIA256-SHA256",
        "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    ),
    (
        "DHE-DSS-CAMELLIA256-SHA256",
        "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256",
    ),
    ("ADH-AES256-SHA256", "TLS_DH_anon_WITH_AES_256_CBC_SHA256"),
    (
        "ADH-CAMELLIA256-SHA256",
        "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES128-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    ),
    (
        "ECDHE-RSA-AES128-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    ),
    (
        "DHE-RSA-AES128-SHA256",
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    ),
    (
        "DHE-DSS-AES128-SHA256",
        "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    ),
    (
        "ECDHE-ECDSA-CAMELLIA128-SHA256",
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    (
        "ECDHE-RSA-CAMELLIA128-SHA256",
        "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    (
        "DHE-RSA-CAMELLIA128-SHA256",
        "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    (
        "DHE-DSS-CAMELLIA128-SHA256",
        "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    ("ADH-AES128-SHA256", "TLS_DH_anon_WITH_AES_128_CBC_SHA256"),
    (
        "ADH-CAMELLIA128-SHA256",
        "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    ),
    ("ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    ("DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    ("DHE-DSS-AES256-SHA", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"),
    (
        "DHE-RSA-CAMELLIA256-SHA",
        "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
    ),
    (
        "DHE-DSS-CAMELLIA256-SHA",
        "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA",
    ),
    ("AECDH-AES256-SHA", "TLS_ECDH_anon_WITH_AES_256_CBC_SHA"),
    ("ADH-AES256-SHA", "TLS_DH_anon_WITH_AES_256_CBC_SHA"),
    (
        "ADH-CAMELLIA256-SHA",
        "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",
    ),
    (
        "ECDHE-ECDSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    ),
    ("ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    ("DHE-RSA-AES128-SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    ("DHE-DSS-AES128-SHA", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"),
    (
        "DHE-RSA-CAMELLIA128-SHA",
        "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
    ),
    (
        "DHE-DSS-CAMELLIA128-SHA",
        "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA",
    ),
    ("AECDH-AES128-SHA", "TLS_ECDH_anon_WITH_AES_128_CBC_SHA"),
    ("ADH-AES128-SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA"),
    (
        "ADH-CAMELLIA128-SHA",
        "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",
    ),
    (
        "RSA-PSK-AES256-GCM-SHA384",
        "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
    ),
    (
        "DHE-PSK-AES256-GCM-SHA384",
        "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
    ),
    (
        "RSA-PSK-CHACHA20-POLY1305",
        "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "DHE-PSK-CHACHA20-POLY1305",
        "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-PSK-CHACHA20-POLY1305",
        "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    ),
    ("DHE-PSK-AES256-CCM8", "TLS_PSK_DHE_WITH_AES_256_CCM_8"),
    ("DHE-PSK-AES256-CCM", "TLS_DHE_PSK_WITH_AES_256_CCM"),
    (
        "RSA-PSK-ARIA256-GCM-SHA384",
        "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384",
    ),
    (
        "DHE-PSK-ARIA256-GCM-SHA384",
        "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384",
    ),
    ("AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    ("AES256-CCM8", "TLS_RSA_WITH_AES_256_CCM_8"),
    ("AES256-CCM", "TLS_RSA_WITH_AES_256_CCM"),
    ("ARIA256-GCM-SHA384", "TLS_RSA_WITH_ARIA_256_GCM_SHA384"),
    ("PSK-AES256-GCM-SHA384", "TLS_PSK_WITH_AES_256_GCM_SHA384"),
    (
        "PSK-CHACHA20-POLY1305",
        "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
    ),
    ("PSK-AES256-CCM8", "TLS_PSK_WITH_AES_256_CCM_8"),
    ("PSK-AES256-CCM", "TLS_PSK_WITH_AES_256_CCM"),
    ("PSK-ARIA256-GCM-SHA384", "TLS_PSK_WITH_ARIA_256_GCM_SHA384"),
    (
        "RSA-PSK-AES128-GCM-SHA256",
        "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
    ),
    (
        "DHE-PSK-AES128-GCM-SHA256",
        "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256",
    ),
    ("DHE-PSK-AES128-CCM8", "TLS_PSK_DHE_WITH_AES_128_CCM_8"),
    ("DHE-PSK-AES128-CCM", "TLS_DHE_PSK_WITH_AES_128_CCM"),
    (
        "RSA-PSK-ARIA128-GCM-SHA256",
        "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256",
    ),
    (
        "DHE-PSK-ARIA128-GCM-SHA256",
        "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256",
    ),
    ("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    ("AES128-CCM8", "TLS_RSA_WITH_AES_128_CCM_8"),
    ("AES128-CCM", "TLS_RSA_WITH_AES_128_CCM"),
    ("ARIA128-GCM-SHA256", "TLS_RSA_WITH_ARIA_128_GCM_SHA256"),
    ("PSK-AES128-GCM-SHA256", "TLS_PSK_WITH_AES_128_GCM_SHA256"),
    ("PSK-AES128-CCM8", "TLS_PSK_WITH_AES_128_CCM_8"),
    ("PSK-AES128-CCM", "TLS_PSK_WITH_AES_128_CCM"),
    ("PSK-ARIA128-GCM-SHA256", "TLS_PSK_WITH_ARIA_128_GCM_SHA256"),
    ("AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    ("CAMELLIA256-SHA256", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256"),
    ("AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    ("CAMELLIA128-SHA256", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256"),
    (
        "ECDHE-PSK-AES256-CBC-SHA384",
        "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",
    ),
    (
        "ECDHE-PSK-AES256-CBC-SHA",
        "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
    ),
    (
        "SRP-DSS-AES-256-CBC-SHA",
        "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",
    ),
    (
        "SRP-RSA-AES-256-CBC-SHA",
        "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",
    ),
    ("SRP-AES-256-CBC-SHA", "TLS_SRP_SHA_WITH_AES_256_CBC_SHA"),
    (
        "RSA-PSK-AES256-CBC-SHA384",
        "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",
    ),
    (
        "DHE-PSK-AES256-CBC-SHA384",
        "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384",
    ),
    ("RSA-PSK-AES256-CBC-SHA", "TLS_RSA_PSK_WITH_AES_256_CBC_SHA"),
    ("DHE-PSK-AES256-CBC-SHA", "TLS_DHE_PSK_WITH_AES_256_CBC_SHA"),
    (
        "ECDHE-PSK-CAMELLIA256-SHA384",
        "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    ),
    (
        "RSA-PSK-CAMELLIA256-SHA384",
        "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    ),
    (
        "DHE-PSK-CAMELLIA256-SHA384",
        "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    ),
    ("AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA"),
    ("CAMELLIA256-SHA", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA"),
    ("PSK-AES256-CBC-SHA384", "TLS_PSK_WITH_AES_256_CBC_SHA384"),
    ("PSK-AES256-CBC-SHA", "TLS_PSK_WITH_AES_256_CBC_SHA"),
    (
        "PSK-CAMELLIA256-SHA384",
        "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    ),
    (
        "ECDHE-PSK-AES128-CBC-SHA256",
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
    ),
    (
        "ECDHE-PSK-AES128-CBC-SHA",
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
    ),
    (
        "SRP-DSS-AES-128-CBC-SHA",
        "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",
    ),
    (
        "SRP-RSA-AES-128-CBC-SHA",
        "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",
    ),
    ("SRP-AES-128-CBC-SHA", "TLS_SRP_SHA_WITH_AES_128_CBC_SHA"),
    (
        "RSA-PSK-AES128-CBC-SHA256",
        "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",
    ),
    (
        "DHE-PSK-AES128-CBC-SHA256",
        "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256",
    ),
    ("RSA-PSK-AES128-CBC-SHA", "TLS_RSA_PSK_WITH_AES_128_CBC_SHA"),
    ("DHE-PSK-AES128-CBC-SHA", "TLS_DHE_PSK_WITH_AES_128_CBC_SHA"),
    (
        "ECDHE-PSK-CAMELLIA128-SHA256",
        "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    (
        "RSA-PSK-CAMELLIA128-SHA256",
        "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    (
        "DHE-PSK-CAMELLIA128-SHA256",
        "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    ("AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"),
    ("CAMELLIA128-SHA", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"),
    ("PSK-AES128-CBC-SHA256", "TLS_PSK_WITH_AES_128_CBC_SHA256"),
    ("PSK-AES128-CBC-SHA", "TLS_PSK_WITH_AES_128_CBC_SHA"),
    (
        "PSK-CAMELLIA128-SHA256",
        "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    ("ECDHE-ECDSA-NULL-SHA", "TLS_ECDHE_ECDSA_WITH_NULL_SHA"),
    ("ECDHE-RSA-NULL-SHA", "TLS_ECDHE_RSA_WITH_NULL_SHA"),
    ("AECDH-NULL-SHA", "TLS_ECDH_anon_WITH_NULL_SHA"),
    ("NULL-SHA256", "TLS_RSA_WITH_NULL_SHA256"),
    ("ECDHE-PSK-NULL-SHA384", "TLS_ECDHE_PSK_WITH_NULL_SHA384"),
    ("ECDHE-PSK-NULL-SHA256", "TLS_ECDHE_PSK_WITH_NULL_SHA256"),
    ("ECDHE-PSK-NULL-SHA", "TLS_ECDHE_PSK_WITH_NULL_SHA"),
    ("RSA-PSK-NULL-SHA384", "TLS_RSA_PSK_WITH_NULL_SHA384"),
    ("RSA-PSK-NULL-SHA256", "TLS_RSA_PSK_WITH_NULL_SHA256"),
    ("DHE-PSK-NULL-SHA384", "TLS_DHE_PSK_WITH_NULL_SHA384"),
    ("DHE-PSK-NULL-SHA256", "TLS_DHE_PSK_WITH_NULL_SHA256"),
    ("RSA-PSK-NULL-SHA", "TLS_RSA_PSK_WITH_NULL_SHA"),
    ("DHE-PSK-NULL-SHA", "TLS_DHE_PSK_WITH_NULL_SHA"),
    ("NULL-SHA", "TLS_RSA_WITH_NULL_SHA"),
    ("NULL-MD5", "TLS_RSA_WITH_NULL_MD5"),
    ("PSK-NULL-SHA384", "TLS_PSK_WITH_NULL_SHA384"),
    ("PSK-NULL-SHA256", "TLS_PSK_WITH_NULL_SHA256"),
    ("PSK-NULL-SHA", "TLS_PSK_WITH_NULL_SHA"),
];

/// Alias words and the indices (into [`CIPHERS`]) of the ciphers each selects.
pub static ALIASES: &[(&str, &[u8])] = &[
    (
        "ALL",
        &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
            46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67,
            68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89,
            90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108,
            109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125,
            126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136,
        ],
    ),
    (
        "COMPLEMENTOFALL",
        &[
            137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153,
            154,
        ],
    ),
    (
        "COMPLEMENTOFDEFAULT",
        &[
            2, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18, 20, 21, 22, 23, 24, 25, 26, 27, 28, 32, 33, 34,
            35, 36, 37, 38, 42, 43, 44, 45, 46, 47, 48, 52, 53, 54, 55, 56, 57, 61, 62, 63, 64, 65,
            66, 72, 73, 74, 75, 77, 78, 79, 82, 83, 84, 87, 88, 89, 90, 92, 93, 94, 96, 97, 98,
            100, 102, 105, 112, 113, 114, 116, 119, 122, 129, 130, 131, 133, 136,
        ],
    ),
    (
        "kRSA",
        &[
            76, 77, 78, 79, 91, 92, 93, 94, 99, 100, 101, 102, 115, 116, 132, 133, 140, 150, 151,
        ],
    ),
    ("kDHr", &[]),
    ("kDHd", &[]),
    ("kDH", &[]),
    (
        "kEDH",
        &[
            2, 3, 6, 9, 10, 13, 14, 15, 18, 19, 22, 23, 26, 27, 28, 31, 32, 35, 36, 37, 38, 41, 42,
            45, 46, 47, 48, 51, 52, 53, 54, 56, 57, 60, 61, 62, 63, 65, 66,
        ],
    ),
    (
        "kDHE",
        &[
            2, 3, 6, 9, 10, 13, 14, 15, 18, 19, 22, 23, 26, 27, 28, 31, 32, 35, 36, 37, 38, 41, 42,
            45, 46, 47, 48, 51, 52, 53, 54, 56, 57, 60, 61, 62, 63, 65, 66,
        ],
    ),
    (
        "EDH",
        &[
            2, 3, 6, 9, 10, 13, 14, 18, 19, 22, 23, 26, 27, 31, 32, 35, 36, 41, 42, 45, 46, 51, 52,
            53, 54, 60, 61, 62, 63,
        ],
    ),
    (
        "DHE",
        &[
            2, 3, 6, 9, 10, 13, 14, 18, 19, 22, 23, 26, 27, 31, 32, 35, 36, 41, 42, 45, 46, 51, 52,
            53, 54, 60, 61, 62, 63,
        ],
    ),
    (
        "kEECDH",
        &[
            0, 1, 4, 5, 7, 8, 11, 12, 16, 17, 20, 21, 24, 25, 29, 30, 33, 34, 39, 40, 43, 44, 49,
            50, 55, 58, 59, 64, 137, 138, 139,
        ],
    ),
    (
        "kECDHE",
        &[
            0, 1, 4, 5, 7, 8, 11, 12, 16, 17, 20, 21, 24, 25, 29, 30, 33, 34, 39, 40, 43, 44, 49,
            50, 55, 58, 59, 64, 137, 138, 139,
        ],
    ),
    (
        "ECDH",
        &[
            0, 1, 4, 5, 7, 8, 11, 12, 16, 17, 20, 21, 24, 25, 29, 30, 33, 34, 39, 40, 43, 44, 49,
            50, 55, 58, 59, 64, 137, 138, 139,
        ],
    ),
    (
        "EECDH",
        &[
            0, 1, 4, 5, 7, 8, 11, 12, 16, 17, 20, 21, 24, 25, 29, 30, 33, 34, 39, 40, 43, 44, 49,
            50, 58, 59, 137, 138,
        ],
    ),
    (
        "ECDHE",
        &[
            0, 1, 4, 5, 7, 8, 11, 12, 16, 17, 20, 21, 24, 25, 29, 30, 33, 34, 39, 40, 43, 44, 49,
            50, 58, 59, 137, 138,
        ],
    ),
    (
        "kPSK",
        &[
            80, 81, 82, 83, 84, 95, 96, 97, 98, 117, 118, 119, 134, 135, 136, 152, 153, 154,
        ],
    ),
    (
        "kRSAPSK",
        &[
            67, 69, 74, 85, 89, 108, 110, 113, 125, 127, 130, 144, 145, 148,
        ],
    ),
    (
        "kECDHEPSK",
        &[71, 103, 104, 112, 120, 121, 129, 141, 142, 143],
    ),
    (
        "kDHEPSK",
        &[
            68, 70, 72, 73, 75, 86, 87, 88, 90, 109, 111, 114, 126, 128, 131, 146, 147, 149,
        ],
    ),
    ("kSRP", &[105, 106, 107, 122, 123, 124]),
    ("kGOST", &[]),
    ("kGOST18", &[]),
    (
        "aRSA",
        &[
            1, 3, 5, 6, 9, 10, 12, 14, 17, 19, 22, 23, 25, 27, 30, 31, 34, 35, 40, 41, 44, 45, 50,
            51, 53, 59, 60, 62, 67, 69, 74, 76, 77, 78, 79, 85, 89, 91, 92, 93, 94, 99, 100, 101,
            102, 106, 108, 110, 113, 115, 116, 123, 125, 127, 130, 132, 133, 138, 140, 144, 145,
            148, 150, 151,
        ],
    ),
    (
        "aDSS",
        &[2, 13, 18, 26, 32, 36, 42, 46, 52, 54, 61, 63, 105, 122],
    ),
    (
        "DSS",
        &[2, 13, 18, 26, 32, 36, 42, 46, 52, 54, 61, 63, 105, 122],
    ),
    (
        "aNULL",
        &[15, 28, 37, 38, 47, 48, 55, 56, 57, 64, 65, 66, 139],
    ),
    (
        "aECDSA",
        &[0, 4, 7, 8, 11, 16, 20, 21, 24, 29, 33, 39, 43, 49, 58, 137],
    ),
    (
        "ECDSA",
        &[0, 4, 7, 8, 11, 16, 20, 21, 24, 29, 33, 39, 43, 49, 58, 137],
    ),
    (
        "aPSK",
        &[
            68, 70, 71, 72, 73, 75, 80, 81, 82, 83, 84, 86, 87, 88, 90, 95, 96, 97, 98, 103, 104,
            109, 111, 112, 114, 117, 118, 119, 120, 121, 126, 128, 129, 131, 134, 135, 136, 141,
            142, 143, 146, 147, 149, 152, 153, 154,
        ],
    ),
    ("aGOST01", &[]),
    ("aGOST12", &[]),
    ("aGOST", &[]),
    ("aSRP", &[107, 124]),
    (
        "DH",
        &[
            2, 3, 6, 9, 10, 13, 14, 15, 18, 19, 22, 23, 26, 27, 28, 31, 32, 35, 36, 37, 38, 41, 42,
            45, 46, 47, 48, 51, 52, 53, 54, 56, 57, 60, 61, 62, 63, 65, 66,
        ],
    ),
    ("ADH", &[15, 28, 37, 38, 47, 48, 56, 57, 65, 66]),
    ("AECDH", &[55, 64, 139]),
    (
        "PSK",
        &[
            67, 68, 69, 70, 71, 72, 73, 74, 75, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 95, 96,
            97, 98, 103, 104, 108, 109, 110, 111, 112, 113, 114, 117, 118, 119, 120, 121, 125, 126,
            127, 128, 129, 130, 131, 134, 135, 136, 141, 142, 143, 144, 145, 146, 147, 148, 149,
            152, 153, 154,
        ],
    ),
    ("RSAPSK", &[]),
    ("ECDHEPSK", &[]),
    ("DHEPSK", &[]),
    ("SRP", &[105, 106, 107, 122, 123, 124]),
    (
        "RSA",
        &[
            76, 77, 78, 79, 91, 92, 93, 94, 99, 100, 101, 102, 115, 116, 132, 133, 140, 150, 151,
        ],
    ),
    ("3DES", &[]),
    ("RC4", &[]),
    ("RC2", &[]),
    ("IDEA", &[]),
    ("SEED", &[]),
    (
        "eNULL",
        &[
            137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153,
            154,
        ],
    ),
    (
        "NULL",
        &[
            137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153,
            154,
        ],
    ),
    (
        "AES128",
        &[
            16, 17, 18, 19, 20, 21, 22, 23, 28, 39, 40, 41, 42, 47, 58, 59, 60, 61, 64, 65, 85, 86,
            87, 88, 91, 92, 93, 95, 96, 97, 101, 120, 121, 122, 123, 124, 125, 126, 127, 128, 132,
            134, 135,
        ],
    ),
    (
        "AES256",
        &[
            0, 1, 2, 3, 7, 8, 9, 10, 15, 29, 30, 31, 32, 37, 49, 50, 51, 52, 55, 56, 67, 68, 72,
            73, 76, 77, 78, 80, 82, 83, 99, 103, 104, 105, 106, 107, 108, 109, 110, 111, 115, 117,
            118,
        ],
    ),
    (
        "AES",
        &[
            0, 1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20, 21, 22, 23, 28, 29, 30, 31, 32, 37,
            39, 40, 41, 42, 47, 49, 50, 51, 52, 55, 56, 58, 59, 60, 61, 64, 65, 67, 68, 72, 73, 76,
            77, 78, 80, 82, 83, 85, 86, 87, 88, 91, 92, 93, 95, 96, 97, 99, 101, 103, 104, 105,
            106, 107, 108, 109, 110, 111, 115, 117, 118, 120, 121, 122, 123, 124, 125, 126, 127,
            128, 132, 134, 135,
        ],
    ),
    (
        "AESGCM",
        &[
            0, 1, 2, 3, 15, 16, 17, 18, 19, 28, 67, 68, 76, 80, 85, 86, 91, 95,
        ],
    ),
    (
        "AESCCM",
        &[
            7, 8, 9, 10, 20, 21, 22, 23, 72, 73, 77, 78, 82, 83, 87, 88, 92, 93, 96, 97,
        ],
    ),
    ("AESCCM8", &[7, 9, 20, 22, 72, 77, 82, 87, 92, 96]),
    (
        "CAMELLIA128",
        &[43, 44, 45, 46, 48, 62, 63, 66, 102, 129, 130, 131, 133, 136],
    ),
    (
        "CAMELLIA256",
        &[33, 34, 35, 36, 38, 53, 54, 57, 100, 112, 113, 114, 116, 119],
    ),
    (
        "CAMELLIA",
        &[
            33, 34, 35, 36, 38, 43, 44, 45, 46, 48, 53, 54, 57, 62, 63, 66, 100, 102, 112, 113,
            114, 116, 119, 129, 130, 131, 133, 136,
        ],
    ),
    ("CHACHA20", &[4, 5, 6, 69, 70, 71, 81]),
    ("GOST89", &[]),
    (
        "ARIA",
        &[
            11, 12, 13, 14, 24, 25, 26, 27, 74, 75, 79, 84, 89, 90, 94, 98,
        ],
    ),
    (
        "ARIAGCM",
        &[
            11, 12, 13, 14, 24, 25, 26, 27, 74, 75, 79, 84, 89, 90, 94, 98,
        ],
    ),
    ("ARIA128", &[24, 25, 26, 27, 89, 90, 94, 98]),
    ("ARIA256", &[11, 12, 13, 14, 74, 75, 79, 84]),
    (
        "CBC",
        &[
            29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
            51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 99, 100, 101, 102, 103,
            104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120,
            121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136,
        ],
    ),
    ("MD5", &[151]),
    (
        "SHA1",
        &[
            49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 104, 105, 106,
            107, 110, 111, 115, 116, 118, 121, 122, 123, 124, 127, 128, 132, 133, 135, 137, 138,
            139, 143, 148, 149, 150, 154,
        ],
    ),
    (
        "SHA",
        &[
            49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 104, 105, 106,
            107, 110, 111, 115, 116, 118, 121, 122, 123, 124, 127, 128, 132, 133, 135, 137, 138,
            139, 143, 148, 149, 150, 154,
        ],
    ),
    ("GOST94", &[]),
    ("GOST89MAC", &[]),
    (
        "SHA256",
        &[
            31, 32, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 99, 100, 101, 102, 120,
            125, 126, 129, 130, 131, 134, 136, 140, 142, 145, 147, 153,
        ],
    ),
    (
        "SHA384",
        &[
            29, 30, 33, 34, 103, 108, 109, 112, 113, 114, 117, 119, 141, 144, 146, 152,
        ],
    ),
    ("GOST12", &[]),
    (
        "SSLv3",
        &[
            51, 52, 53, 54, 56, 57, 60, 61, 62, 63, 65, 66, 105, 106, 107, 110, 111, 115, 116, 118,
            122, 123, 124, 127, 128, 132, 133, 135, 148, 149, 150, 151, 154,
        ],
    ),
    (
        "TLSv1",
        &[
            49, 50, 55, 58, 59, 64, 103, 104, 108, 109, 112, 113, 114, 117, 119, 120, 121, 125,
            126, 129, 130, 131, 134, 136, 137, 138, 139, 141, 142, 143, 144, 145, 146, 147, 152,
            153,
        ],
    ),
    (
        "TLSv1.0",
        &[
            49, 50, 55, 58, 59, 64, 103, 104, 108, 109, 112, 113, 114, 117, 119, 120, 121, 125,
            126, 129, 130, 131, 134, 136, 137, 138, 139, 141, 142, 143, 144, 145, 146, 147, 152,
            153,
        ],
    ),
    (
        "TLSv1.2",
        &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
            46, 47, 48, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85,
            86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 140,
        ],
    ),
    ("LOW", &[]),
    ("MEDIUM", &[]),
    (
        "HIGH",
        &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
            46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67,
            68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89,
            90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108,
            109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125,
            126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136,
        ],
    ),
    (
        "FIPS",
        &[
            0, 1, 2, 3, 15, 16, 17, 18, 19, 28, 29, 30, 31, 32, 37, 39, 40, 41, 42, 47, 49, 50, 51,
            52, 55, 56, 58, 59, 60, 61, 64, 65, 67, 68, 76, 80, 85, 86, 91, 95, 99, 101, 103, 104,
            108, 109, 110, 111, 115, 117, 118, 120, 121, 125, 126, 127, 128, 132, 134, 135,
        ],
    ),
    ("EXP", &[]),
    ("EXPORT", &[]),
    ("DES", &[]),
    ("SUITEB128", &[0, 16]),
    ("SUITEB128ONLY", &[16]),
    ("SUITEB128C2", &[0]),
    ("SUITEB192", &[0]),
];

/// What `DEFAULT` at the start of a string selects.
pub static DEFAULT: &[u8] = &[
    0, 1, 3, 4, 5, 6, 16, 17, 19, 29, 30, 31, 39, 40, 41, 49, 50, 51, 58, 59, 60, 67, 68, 69, 70,
    71, 76, 80, 81, 85, 86, 91, 95, 99, 101, 103, 104, 106, 107, 108, 109, 110, 111, 115, 117, 118,
    120, 121, 123, 124, 125, 126, 127, 128, 132, 134, 135,
];
