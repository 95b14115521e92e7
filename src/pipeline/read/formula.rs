//! Formulas saved without their result. Scripts and some web exports write `=12+3` and no value;
//! calamine then yields nothing, and a blank counts as 0. This evaluator computes only what can be
//! known exactly from the file: numbers, `+ - * /`, parentheses, references to cells of the same
//! sheet and `SUM` over such references and ranges. Anything else is unknown (`None`): the caller
//! says so instead of guessing.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::{CellValue, Sheet};

/// How deep references to other formula cells are followed.
const MAX_DEPTH: u32 = 32;
/// Cells one evaluation may visit (ranges included): a crafted sheet of formulas summing each
/// other's ranges stays cheap; past this the value is unknown, never guessed.
const MAX_VISITS: u32 = 200_000;

/// The value of `formula` (without or with its leading `=`; an .ods `of:=[.E12]+1` is accepted)
/// on `sheet`, if it can be computed exactly.
pub fn evaluate(formula: &str, sheet: &Sheet) -> Option<f64> {
    let run = Run {
        sheet,
        memo: RefCell::default(),
        visits: Cell::new(0),
    };
    run.eval(formula, 0)
}

/// One evaluation: the formula cells already computed (a cycle finds its cell marked unknown
/// while it is being computed) and the cells visited so far.
struct Run<'a> {
    sheet: &'a Sheet,
    memo: RefCell<HashMap<(u32, u32), Option<f64>>>,
    visits: Cell<u32>,
}

impl Run<'_> {
    fn eval(&self, formula: &str, depth: u32) -> Option<f64> {
        if depth > MAX_DEPTH {
            return None;
        }
        let text = normalise(formula)?;
        let mut p = Parser {
            s: text.as_bytes(),
            pos: 0,
            run: self,
            depth,
        };
        let v = p.expr()?;
        p.skip_ws();
        (p.pos == p.s.len() && v.is_finite()).then_some(v)
    }

    /// A referenced cell: a number, blank (0), or a formula computed in turn. Text, dates,
    /// booleans and errors are unknown: what Excel would make of them is not guessed.
    fn cell(&self, row: u32, col: u32, depth: u32) -> Option<f64> {
        let n = self.visits.get() + 1;
        self.visits.set(n);
        if n > MAX_VISITS {
            return None;
        }
        match self.sheet.get(row, col) {
            None => Some(0.0),
            Some(CellValue::Number(n)) => Some(*n),
            Some(CellValue::Formula(f)) => {
                if let Some(known) = self.memo.borrow().get(&(row, col)) {
                    return *known;
                }
                self.memo.borrow_mut().insert((row, col), None);
                let v = self.eval(f, depth + 1);
                self.memo.borrow_mut().insert((row, col), v);
                v
            }
            Some(_) => None,
        }
    }
}

/// An .ods formula (`of:=[.E12]+1`, `of:=SUM([.E12:.E14];1)`) in Excel syntax (`E12+1`,
/// `SUM(E12:E14,1)`), if it refers to its own sheet only.
pub fn excel_syntax(formula: &str) -> Option<String> {
    normalise(formula)
}

/// The formula in Excel syntax: no `=`, no `of:` prefix, .ods references `[.E12]` and
/// `[.E12:.E14]` as `E12` and `E12:E14`, `;` between arguments as `,`. A reference to another
/// sheet (`[$Sheet2.A1]`) is left as it is, and fails to parse.
fn normalise(formula: &str) -> Option<String> {
    let f = formula.trim();
    let f = f.strip_prefix("of:").unwrap_or(f);
    let f = f.strip_prefix('=').unwrap_or(f);
    if !f.contains('[') {
        return Some(f.replace(';', ","));
    }
    let mut out = String::with_capacity(f.len());
    let mut rest = f;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find(']')? + open;
        let inner = &rest[open + 1..close];
        if inner.contains('$') && inner.contains('.') && !inner.starts_with('.') {
            return None; // another sheet
        }
        out.push_str(&inner.replace('.', ""));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out.replace(';', ","))
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    run: &'a Run<'a>,
    depth: u32,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Option<f64> {
        let mut v = self.term()?;
        loop {
            if self.eat(b'+') {
                v += self.term()?;
            } else if self.eat(b'-') {
                v -= self.term()?;
            } else {
                return Some(v);
            }
        }
    }

    fn term(&mut self) -> Option<f64> {
        let mut v = self.unary()?;
        loop {
            if self.eat(b'*') {
                v *= self.unary()?;
            } else if self.eat(b'/') {
                let d = self.unary()?;
                if d == 0.0 {
                    return None; // #DIV/0!
                }
                v /= d;
            } else {
                return Some(v);
            }
        }
    }

    fn unary(&mut self) -> Option<f64> {
        if self.eat(b'-') {
            return Some(-self.unary()?);
        }
        if self.eat(b'+') {
            return self.unary();
        }
        self.atom()
    }

    fn atom(&mut self) -> Option<f64> {
        self.skip_ws();
        let b = *self.s.get(self.pos)?;
        if b == b'(' {
            self.pos += 1;
            let v = self.expr()?;
            return self.eat(b')').then_some(v);
        }
        if b.is_ascii_digit() || b == b'.' {
            let start = self.pos;
            while self
                .s
                .get(self.pos)
                .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
            {
                self.pos += 1;
            }
            return std::str::from_utf8(&self.s[start..self.pos])
                .ok()?
                .parse()
                .ok();
        }
        if b.is_ascii_alphabetic() || b == b'$' {
            let start = self.pos;
            while self
                .s
                .get(self.pos)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'$' || *b == b'.')
            {
                self.pos += 1;
            }
            let word = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
            if self.eat(b'(') {
                return self.function(word);
            }
            // A range outside SUM (implicit intersection) is not computed.
            let (row, col) = cell_ref(word)?;
            return self.cell(row, col);
        }
        None
    }

    fn function(&mut self, name: &str) -> Option<f64> {
        if !name.eq_ignore_ascii_case("SUM") {
            return None;
        }
        let mut total = 0.0;
        if self.eat(b')') {
            return Some(total);
        }
        loop {
            total += self.sum_arg()?;
            if self.eat(b')') {
                return Some(total);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// One argument of SUM: a range `E12:E14` (blank cells count 0) or an expression.
    fn sum_arg(&mut self) -> Option<f64> {
        let save = self.pos;
        self.skip_ws();
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'$' || *b == b':')
        {
            self.pos += 1;
        }
        let word = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
        if let Some((a, b)) = word.split_once(':') {
            let (r1, c1) = cell_ref(a)?;
            let (r2, c2) = cell_ref(b)?;
            return self.range_sum(r1.min(r2), r1.max(r2), c1.min(c2), c1.max(c2));
        }
        self.pos = save;
        self.expr()
    }

    fn range_sum(&self, r1: u32, r2: u32, c1: u32, c2: u32) -> Option<f64> {
        let mut total = 0.0;
        for row in self
            .run
            .sheet
            .rows
            .iter()
            .filter(|r| r.index >= r1 && r.index <= r2)
        {
            for (c, _) in row.cells.iter().filter(|(c, _)| *c >= c1 && *c <= c2) {
                total += self.cell(row.index, *c)?;
            }
        }
        Some(total)
    }

    fn cell(&self, row: u32, col: u32) -> Option<f64> {
        self.run.cell(row, col, self.depth)
    }
}

/// `E12`, `$E$12` -> zero-based (row, col).
fn cell_ref(s: &str) -> Option<(u32, u32)> {
    let s = s.replace('$', "");
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (l, d) = s.split_at(letters);
    if l.is_empty() || l.len() > 3 || d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let col = l.bytes().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    }) - 1;
    let row: u32 = d.parse().ok()?;
    (row >= 1).then(|| (row - 1, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        // E11=2, E12=<formula 100+50>, E13 blank, E14="1.250" (text), E15=3, F15=<formula E99/0>
        Sheet::from_cells(
            "Chỉ tiêu",
            vec![
                (10, 4, CellValue::Number(2.0)),
                (11, 4, CellValue::Formula("100+50".into())),
                (13, 4, CellValue::Text("1.250".into())),
                (14, 4, CellValue::Number(3.0)),
                (14, 5, CellValue::Formula("E99/0".into())),
                (20, 4, CellValue::Formula("E22".into())),
                (21, 4, CellValue::Formula("E21".into())),
            ],
        )
    }

    fn eval(f: &str) -> Option<f64> {
        evaluate(f, &sheet())
    }

    #[test]
    fn constant_arithmetic_is_computed() {
        assert_eq!(eval("=12+3"), Some(15.0));
        assert_eq!(eval("=2+3*4"), Some(14.0));
        assert_eq!(eval("=(2+3)*4"), Some(20.0));
        assert_eq!(eval("= -5 + 10 / 4"), Some(-2.5));
        assert_eq!(eval("=12/2"), Some(6.0));
    }

    #[test]
    fn same_sheet_references_and_sums_are_computed() {
        assert_eq!(eval("=E11+8"), Some(10.0));
        assert_eq!(eval("=$E$11*$E$15"), Some(6.0));
        // A reference to a formula cell without a result is computed in turn.
        assert_eq!(eval("=E12*6"), Some(900.0));
        // A blank cell counts 0, as in Excel.
        assert_eq!(eval("=E13+1"), Some(1.0));
        assert_eq!(eval("=SUM(E11:E12)"), Some(152.0));
        assert_eq!(eval("=SUM(E15,17)"), Some(20.0));
        assert_eq!(eval("=sum(E11, E12:E13, 1)+1"), Some(154.0));
        assert_eq!(eval("=SUM()"), Some(0.0));
    }

    #[test]
    fn ods_syntax_is_understood() {
        assert_eq!(eval("of:=[.E11]+8"), Some(10.0));
        assert_eq!(eval("of:=SUM([.E11:.E12];1)"), Some(153.0));
        assert_eq!(eval("of:=[$Sheet2.E11]+8"), None);
    }

    #[test]
    fn anything_else_is_unknown() {
        for f in [
            "=VLOOKUP(\"TB\",$B$11:$E$21,4,FALSE)",
            "='Hoạt động'!F3/10",
            "=Sheet2!A1",
            "=DATE(2026,10,24)",
            "=TODAY()",
            "=E14+1",        // text: Excel's reading of "1.250" is not guessed
            "=SUM(E11:E14)", // a text cell inside the range
            "=F15",          // division by zero
            "=E21",          // a cycle
            "=E11:E12",      // a range outside SUM
            "=1+",
            "=\"15\"",
            "=12%",
            "",
        ] {
            assert_eq!(eval(f), None, "{f}");
        }
    }

    /// Formulas summing the ranges of other formulas branch at every step: without a memory
    /// of computed cells and a visit budget this sheet takes 2^2000 steps (a hang, so a
    /// worker timeout). Chains shorter than the depth limit are still exact.
    #[test]
    fn formulas_summing_each_other_stay_cheap_and_exact() {
        let n = 2000u32;
        let mut cells = vec![(0, 0, CellValue::Number(1.0))];
        for r in 1..n {
            cells.push((r, 0, CellValue::Formula(format!("SUM(A$1:A{r})"))));
        }
        let sheet = Sheet::from_cells("x", cells);
        // A3 = A1 + A2 = 2, A4 = 4, ... A11 = 2^9.
        assert_eq!(evaluate("A11", &sheet), Some(512.0));
        // Deeper than the limit: unknown, not a wrong number, and it returns.
        assert_eq!(evaluate(&format!("A{n}"), &sheet), None);
    }

    #[test]
    fn cell_references() {
        assert_eq!(cell_ref("A1"), Some((0, 0)));
        assert_eq!(cell_ref("$E$12"), Some((11, 4)));
        assert_eq!(cell_ref("AA3"), Some((2, 26)));
        assert_eq!(cell_ref("E0"), None);
        assert_eq!(cell_ref("12"), None);
        assert_eq!(cell_ref("FALSE"), None);
    }
}
