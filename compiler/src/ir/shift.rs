//! Moving what a proxy body built to where its section now stands: every span that lay in the
//! section's old byte range moves by the same delta; spans elsewhere (inherited from a defaults
//! section that did not move) stay. Used by [`super::reuse`] when an edit before a section
//! shifted it without changing it.
//!
//! Each impl destructures its type completely, so that a span field added later fails to
//! compile here instead of being left behind.

use super::model::*;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};

/// A byte range of one file and how far it moved.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shifter {
    pub file: FileId,
    /// The old range, both ends included (a missing word's empty span sits at the end).
    pub from: u32,
    pub to: u32,
    pub delta: i64,
}

impl Shifter {
    fn offset(&self, at: &mut u32) {
        if (self.from..=self.to).contains(at) {
            *at = (i64::from(*at) + self.delta).clamp(0, i64::from(u32::MAX)) as u32;
        }
    }
}

pub(crate) trait Shift {
    fn shift(&mut self, s: &Shifter);
}

impl Shift for Span {
    fn shift(&mut self, s: &Shifter) {
        if self.file == s.file {
            s.offset(&mut self.start);
            s.offset(&mut self.end);
        }
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, s: &Shifter) {
        if let Some(v) = self {
            v.shift(s);
        }
    }
}

impl<T: Shift> Shift for Box<T> {
    fn shift(&mut self, s: &Shifter) {
        (**self).shift(s);
    }
}

impl<T: Shift> Shift for ThinVec<T> {
    fn shift(&mut self, s: &Shifter) {
        self.iter_mut().for_each(|v| v.shift(s));
    }
}

impl<T: Shift + Clone> Shift for SharedList<T> {
    fn shift(&mut self, s: &Shifter) {
        self.items_mut().iter_mut().for_each(|v| v.shift(s));
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, s: &Shifter) {
        self.iter_mut().for_each(|v| v.shift(s));
    }
}

impl<T> Shift for Spanned<T> {
    fn shift(&mut self, s: &Shifter) {
        self.span.shift(s);
    }
}

impl<A: Shift, B: Shift> Shift for (A, B) {
    fn shift(&mut self, s: &Shifter) {
        self.0.shift(s);
        self.1.shift(s);
    }
}

/// Values without spans.
macro_rules! no_spans {
    ($($t:ty),*) => {
        $(impl Shift for $t {
            fn shift(&mut self, _: &Shifter) {}
        })*
    };
}
no_spans!(Text);

impl Shift for ThreadSpec {
    fn shift(&mut self, s: &Shifter) {
        let ThreadSpec {
            group: _,
            mask: _,
            span,
        } = self;
        span.shift(s);
    }
}

impl Shift for Bind {
    fn shift(&mut self, s: &Shifter) {
        let Bind {
            address,
            span,
            options,
            thread,
            ssl: _,
            name: _,
        } = self;
        address.shift(s);
        span.shift(s);
        options.shift(s);
        thread.shift(s);
    }
}

impl Shift for Server {
    fn shift(&mut self, s: &Shifter) {
        let Server {
            name,
            address,
            span,
            options,
            check: _,
            backup: _,
            disabled: _,
            weight: _,
            maxconn: _,
            template: _,
            lacks_port: _,
            words: _,
        } = self;
        name.shift(s);
        address.shift(s);
        span.shift(s);
        options.shift(s);
    }
}

impl Shift for DirectiveLine {
    fn shift(&mut self, s: &Shifter) {
        let DirectiveLine {
            prefix: _,
            keyword: _,
            args: _,
            span,
        } = self;
        span.shift(s);
    }
}

impl Shift for AclDecl {
    fn shift(&mut self, s: &Shifter) {
        let AclDecl { name, span, words } = self;
        name.shift(s);
        span.shift(s);
        words.shift(s);
    }
}

impl Shift for RuleDecl {
    fn shift(&mut self, s: &Shifter) {
        let RuleDecl {
            set: _,
            action,
            args,
            condition,
            span,
        } = self;
        action.shift(s);
        args.shift(s);
        condition.shift(s);
        span.shift(s);
    }
}

impl Shift for UseBackend {
    fn shift(&mut self, s: &Shifter) {
        let UseBackend {
            target,
            dynamic: _,
            condition,
            span,
        } = self;
        target.shift(s);
        condition.shift(s);
        span.shift(s);
    }
}

impl Shift for StickTableDecl {
    fn shift(&mut self, s: &Shifter) {
        let StickTableDecl {
            key_type: _,
            span,
            stores: _,
            peers,
        } = self;
        span.shift(s);
        peers.shift(s);
    }
}

impl Shift for TableRef {
    fn shift(&mut self, s: &Shifter) {
        let TableRef { table, by: _, span } = self;
        table.shift(s);
        span.shift(s);
    }
}

impl Shift for SampleRef {
    fn shift(&mut self, s: &Shifter) {
        let SampleRef {
            reference: _,
            span,
            context: _,
        } = self;
        span.shift(s);
    }
}

impl Shift for Proxy {
    fn shift(&mut self, s: &Shifter) {
        let Proxy {
            kind: _,
            name,
            header,
            defaults: _,
            from,
            mode,
            disabled: _,
            binds,
            servers,
            acls,
            rules,
            redirects,
            use_backends,
            default_backend,
            timeouts,
            options,
            balance,
            stick_table,
            table_refs,
            has_log: _,
            tcp_request_delay: _,
            log_format,
            maxconn,
            retries,
            retry_on,
            http_reuse,
            use_servers,
            services,
            filters,
            caches,
            sample_refs,
            errorfiles,
            directives,
            // Kinds and flags only.
            rule_order: _,
        } = self;
        name.shift(s);
        header.shift(s);
        from.shift(s);
        mode.shift(s);
        binds.shift(s);
        servers.shift(s);
        acls.shift(s);
        rules.shift(s);
        redirects.shift(s);
        use_backends.shift(s);
        default_backend.shift(s);
        timeouts.shift(s);
        options.shift(s);
        balance.shift(s);
        stick_table.shift(s);
        table_refs.shift(s);
        log_format.shift(s);
        maxconn.shift(s);
        retries.shift(s);
        retry_on.shift(s);
        http_reuse.shift(s);
        use_servers.shift(s);
        services.shift(s);
        filters.shift(s);
        caches.shift(s);
        sample_refs.shift(s);
        errorfiles.shift(s);
        directives.shift(s);
    }
}

impl Shift for FileRef {
    fn shift(&mut self, s: &Shifter) {
        let FileRef {
            kind: _,
            path,
            keyword: _,
            base: _,
            wording: _,
            after_parse: _,
            aborts: _,
            server_context: _,
        } = self;
        path.shift(s);
    }
}

impl Shift for AclHost {
    fn shift(&mut self, s: &Shifter) {
        let AclHost {
            acl: _,
            pattern,
            aborts: _,
        } = self;
        pattern.shift(s);
    }
}

impl Shift for Diagnostic {
    fn shift(&mut self, s: &Shifter) {
        let Diagnostic {
            code: _,
            severity: _,
            message: _,
            span,
            label: _,
            secondary,
            notes: _,
            help: _,
            fix,
            haproxy_form: _,
            after_parse: _,
            haproxy_level: _,
            haproxy_continuation: _,
            haproxy_aborts: _,
            haproxy_not_fatal: _,
        } = self;
        span.shift(s);
        for l in secondary.iter_mut() {
            l.span.shift(s);
        }
        if let Some(fix) = fix {
            for e in &mut fix.edits {
                e.span.shift(s);
            }
        }
    }
}
