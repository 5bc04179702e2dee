//! One-line docs of the section keywords (hover and completion).

use super::SectionKind;

impl SectionKind {
    /// What a section of this kind holds, in one line.
    pub fn doc(self) -> &'static str {
        match self {
            SectionKind::Global => "Process-wide settings: limits, threads, TLS defaults, logging.",
            SectionKind::Defaults => {
                "Settings inherited by the proxies that follow it (or that name it with 'from')."
            }
            SectionKind::Frontend => {
                "Accepts client connections on its bind lines and routes them to backends."
            }
            SectionKind::Backend => {
                "A pool of servers that receives traffic, with its balancing and health checks."
            }
            SectionKind::Listen => "A frontend and a backend in one section.",
            SectionKind::Userlist => "Users and groups for HTTP basic authentication.",
            SectionKind::Peers => "Peers that share stick-table contents with this process.",
            SectionKind::Mailers => "Mail servers that deliver email alerts.",
            SectionKind::NamespaceList => "Network namespaces the process may use.",
            SectionKind::Resolvers => "DNS servers used to resolve server addresses at run time.",
            SectionKind::Ring => {
                "An in-memory ring buffer for logs and traces, optionally forwarded."
            }
            SectionKind::Cache => "An HTTP response cache that proxies use with cache-use.",
            SectionKind::HttpErrors => "Error pages by status code, used with errorfiles.",
            SectionKind::LogForward => "Receives syslog messages and forwards them to log targets.",
            SectionKind::Program => "An external program the master process starts and watches.",
            SectionKind::FcgiApp => "A FastCGI application that backends use with use-fcgi-app.",
        }
    }
}
