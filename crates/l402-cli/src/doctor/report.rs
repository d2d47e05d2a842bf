//! The doctor's report: one line per check with ✓, ! or ✗, and the next step under each one
//! that needs attention; or one JSON document for agents.

use std::fmt::Write as _;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing to do.
    Pass,
    /// Works, but worth changing (too broad a credential, a certificate expiring soon).
    Warn,
    /// Broken: the setup will not work until it is fixed.
    Fail,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was checked: `wallet`, `upstream weather`, …
    pub name: String,
    /// How it ended.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do (for warnings and failures).
    pub fix: Option<String>,
}

/// Every check of one run, in order.
#[derive(Debug, Default)]
pub struct Report {
    checks: Vec<Check>,
}

impl Report {
    /// Records a passed check.
    pub fn pass(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        self.push(name, Status::Pass, detail, None);
    }

    /// Records a warning with its next step.
    pub fn warn(
        &mut self,
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(name, Status::Warn, detail, Some(fix.into()));
    }

    /// Records a failure with its next step.
    pub fn fail(
        &mut self,
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(name, Status::Fail, detail, Some(fix.into()));
    }

    fn push(
        &mut self,
        name: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.checks.push(Check {
            name: name.into(),
            status,
            detail: detail.into(),
            fix,
        });
    }

    /// True when no check failed (warnings allowed).
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// The report for a terminal.
    pub fn render_text(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for c in &self.checks {
            let _ = writeln!(out, "{} {:<width$}  {}", c.status.mark(), c.name, c.detail);
            if let Some(fix) = &c.fix {
                let _ = writeln!(out, "  {:<width$}  → {fix}", "");
            }
        }
        let failed = self.count(Status::Fail);
        let warned = self.count(Status::Warn);
        let _ = match (failed, warned) {
            (0, 0) => writeln!(out, "all {} checks passed", self.checks.len()),
            (0, w) => writeln!(
                out,
                "no problems; {w} {} worth a look",
                plural(w, "warning", "warnings")
            ),
            (f, w) => writeln!(
                out,
                "{f} {} to fix{}",
                plural(f, "problem", "problems"),
                if w > 0 {
                    format!(", {w} {}", plural(w, "warning", "warnings"))
                } else {
                    String::new()
                }
            ),
        };
        out
    }

    /// The report as JSON: `{"healthy": bool, "checks": [{"name", "status", "detail", "fix"}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "healthy": self.healthy(),
            "checks": self.checks.iter().map(|c| serde_json::json!({
                "name": c.name,
                "status": c.status.as_str(),
                "detail": c.detail,
                "fix": c.fix,
            })).collect::<Vec<_>>(),
        })
    }

    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_aligns_marks_names_and_fixes() {
        let mut r = Report::default();
        r.pass("config", "parses");
        r.fail("wallet", "unreachable", "start it");
        r.warn("tls", "expires in 9 days", "renew it");
        assert!(!r.healthy());
        assert_eq!(
            r.render_text(),
            "✓ config  parses\n✗ wallet  unreachable\n          → start it\n! tls     expires in 9 days\n          → renew it\n1 problem to fix, 1 warning\n"
        );
        let json = r.to_json();
        assert_eq!(json["healthy"], false);
        assert_eq!(json["checks"][1]["status"], "fail");
        assert_eq!(json["checks"][1]["fix"], "start it");
        assert_eq!(json["checks"][0]["fix"], serde_json::Value::Null);
    }

    #[test]
    fn warnings_alone_are_healthy() {
        let mut r = Report::default();
        r.pass("a", "x");
        r.warn("b", "y", "z");
        assert!(r.healthy());
        assert!(
            r.render_text()
                .ends_with("no problems; 1 warning worth a look\n")
        );
    }
}
