//! The tiny shell the simulated kubelet "runs": `sh -c "<script>"` and a few direct commands are
//! evaluated ahead of time into a timeline of log lines and an exit, in simulated seconds.
//!
//! Supported: `echo` (`-n`, `-e`), `printf` (`%s`, `\n`), `sleep N[smhd]|infinity`, `exit N`,
//! `true`, `false`, `:`, `exec CMD`, a handful of quiet commands that succeed (`cd`, `export`,
//! `mkdir`, `date`, ...), single and double quotes, backslashes, comments, `;`, newlines, `&&`,
//! `||` (`|` and `&` behave like `;`) and redirections (ignored). Any other command blocks
//! forever, like a server process would.
//!
//! Files: `touch F` creates a file and `test -f F` / `[ -f F ]` (also `-e`) look for one. A
//! container's own files vanish when it restarts; files under one of its volume mounts (an
//! emptyDir) survive restarts in the same pod, so a script can behave differently on a retry. Never
//! runs a real process.

use std::collections::BTreeSet;

/// How many attempts (runs of one container in one pod) are evaluated ahead; later attempts repeat
/// the last one.
pub const ATTEMPTS: usize = 8;

/// What a container's command does, as seen from outside.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Log lines with the simulated second (from container start) they are printed at.
    pub lines: Vec<(f64, String)>,
    /// When and with which code the process exits; `None` when it runs forever.
    pub exit: Option<(f64, i32)>,
}

/// Interprets `command` + `args` for each attempt: files the script creates under `persistent`
/// directories are there for later attempts. `None` when the program is not a shell or a known
/// builtin.
pub fn interpret_attempts(
    command: &[String],
    args: &[String],
    persistent: &[String],
) -> Option<Vec<Run>> {
    let commands = commands_of(command, args)?;
    let mut kept: BTreeSet<String> = BTreeSet::new();
    let mut res = Vec::with_capacity(ATTEMPTS);
    for _ in 0..ATTEMPTS {
        let mut files = kept.clone();
        res.push(evaluate(&commands, &mut files));
        kept = files
            .into_iter()
            .filter(|file| {
                persistent
                    .iter()
                    .any(|dir| file.starts_with(&format!("{}/", dir.trim_end_matches('/'))))
            })
            .collect();
    }
    Some(res)
}

/// Interprets `command` + `args` (a first attempt, with no files). `None` when the program is not a
/// shell or a known builtin: the caller treats it as an opaque long-running process.
#[cfg(test)]
pub fn interpret(command: &[String], args: &[String]) -> Option<Run> {
    Some(evaluate(&commands_of(command, args)?, &mut BTreeSet::new()))
}

fn commands_of(command: &[String], args: &[String]) -> Option<Vec<(Connector, Vec<String>)>> {
    let words: Vec<String> = command.iter().chain(args).cloned().collect();
    let first = words.first()?;
    let program = first.rsplit('/').next().unwrap_or(first).to_owned();
    let program = program.as_str();
    if matches!(program, "sh" | "bash" | "ash" | "dash" | "zsh" | "busybox") {
        let rest = if program == "busybox" && words.get(1).is_some_and(|it| it == "sh") {
            &words[2..]
        } else {
            &words[1..]
        };
        let flag = rest
            .iter()
            .position(|it| it.starts_with('-') && !it.starts_with("--") && it.contains('c'))?;
        let script = rest.get(flag + 1)?;
        return Some(parse(script));
    }
    if is_builtin(program) {
        let mut words = words;
        words[0] = program.to_owned();
        return Some(vec![(Connector::Always, words)]);
    }
    None
}

/// How a command is joined to the previous one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Connector {
    Always,
    And,
    Or,
}

fn is_builtin(program: &str) -> bool {
    matches!(
        program,
        "echo" | "printf" | "sleep" | "exit" | "true" | "false" | ":"
    )
}

const QUIET: &[&str] = &[
    "cd", "export", "set", "unset", "mkdir", "touch", "date", "env", "ls", "cat", "printenv",
    "trap", "wait", "rm", "cp", "mv", "chmod", "chown", "test", "[", "[[", "ln", "umask",
    "hostname", "whoami", "id", "pwd", "sync", "local",
];

/// Splits a script into commands with their connectors.
fn parse(script: &str) -> Vec<(Connector, Vec<String>)> {
    let mut res = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut connector = Connector::Always;
    let mut chars = script.chars().peekable();
    let mut finish = |words: &mut Vec<String>, connector: &mut Connector, next: Connector| {
        if !words.is_empty() {
            res.push((*connector, std::mem::take(words)));
        }
        *connector = next;
    };
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                in_word = true;
                for it in chars.by_ref() {
                    if it == '\'' {
                        break;
                    }
                    word.push(it);
                }
            }
            '"' => {
                in_word = true;
                while let Some(it) = chars.next() {
                    match it {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            word.push(chars.next().expect("peeked"));
                        }
                        other => word.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => (),
                    Some(it) => word.push(it),
                }
            }
            '#' if !in_word => {
                for it in chars.by_ref() {
                    if it == '\n' {
                        break;
                    }
                }
                finish(&mut words, &mut connector, Connector::Always);
            }
            ' ' | '\t' => flush(&mut word, &mut in_word, &mut words),
            ';' | '\n' => {
                flush(&mut word, &mut in_word, &mut words);
                finish(&mut words, &mut connector, Connector::Always);
            }
            '&' | '|' => {
                if in_word && word.ends_with(['>', '<']) {
                    word.push(ch);
                    continue;
                }
                flush(&mut word, &mut in_word, &mut words);
                let next = if chars.peek() == Some(&ch) {
                    chars.next();
                    if ch == '&' {
                        Connector::And
                    } else {
                        Connector::Or
                    }
                } else {
                    Connector::Always
                };
                finish(&mut words, &mut connector, next);
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    flush(&mut word, &mut in_word, &mut words);
    finish(&mut words, &mut connector, Connector::Always);
    res
}

fn flush(word: &mut String, in_word: &mut bool, words: &mut Vec<String>) {
    if *in_word {
        words.push(std::mem::take(word));
        *in_word = false;
    }
}

/// Drops redirections (`>&2`, `2> /dev/null`, `< in`).
fn strip_redirections(words: &[String]) -> Vec<String> {
    let mut res = Vec::new();
    let mut skip_next = false;
    for word in words {
        if skip_next {
            skip_next = false;
            continue;
        }
        let bare = word.trim_start_matches(|it: char| it.is_ascii_digit() || it == '&');
        if bare.starts_with('>') || bare.starts_with('<') {
            let target = bare.trim_start_matches(['>', '<', '&']);
            skip_next = target.is_empty();
            continue;
        }
        res.push(word.clone());
    }
    res
}

fn evaluate(commands: &[(Connector, Vec<String>)], files: &mut BTreeSet<String>) -> Run {
    let mut lines = Vec::new();
    let mut at = 0.0;
    let mut status = 0;
    for (connector, words) in commands {
        match connector {
            Connector::And if status != 0 => continue,
            Connector::Or if status == 0 => continue,
            _ => (),
        }
        let mut words = strip_redirections(words);
        while words
            .first()
            .is_some_and(|it| it == "exec" || it.contains('=') && !it.starts_with('='))
        {
            words.remove(0);
        }
        let Some(program) = words.first() else {
            continue;
        };
        let program = program.rsplit('/').next().unwrap_or(program).to_owned();
        let rest = &words[1..];
        match program.as_str() {
            "echo" => {
                let mut escapes = false;
                let mut idx = 0;
                while let Some(flag) = rest.get(idx).filter(|it| {
                    it.len() > 1
                        && it.starts_with('-')
                        && it[1..].chars().all(|c| "neE".contains(c))
                }) {
                    escapes |= flag.contains('e');
                    idx += 1;
                }
                let mut text = rest[idx..].join(" ");
                if escapes {
                    text = text.replace("\\n", "\n").replace("\\t", "\t");
                }
                lines.extend(text.split('\n').map(|it| (at, it.to_owned())));
                status = 0;
            }
            "printf" => {
                let format = rest.first().cloned().unwrap_or_default();
                let mut args = rest.iter().skip(1);
                let mut text = String::new();
                let mut pieces = format.split("%s");
                text.push_str(pieces.next().unwrap_or(""));
                for piece in pieces {
                    text.push_str(args.next().map(String::as_str).unwrap_or(""));
                    text.push_str(piece);
                }
                let text = text.replace("\\n", "\n").replace("\\t", "\t");
                let text = text.strip_suffix('\n').unwrap_or(&text);
                if !text.is_empty() {
                    lines.extend(text.split('\n').map(|it| (at, it.to_owned())));
                }
                status = 0;
            }
            "sleep" => match rest.first().map(|it| duration(it)) {
                Some(None) => return Run { lines, exit: None },
                Some(Some(seconds)) => {
                    at += seconds;
                    status = 0;
                }
                None => status = 1,
            },
            "exit" => {
                let code = rest
                    .first()
                    .and_then(|it| it.parse::<i32>().ok())
                    .unwrap_or(status);
                return Run {
                    lines,
                    exit: Some((at, code.rem_euclid(256))),
                };
            }
            "true" | ":" => status = 0,
            "false" => status = 1,
            "touch" => {
                files.extend(rest.iter().filter(|it| !it.starts_with('-')).cloned());
                status = 0;
            }
            "test" | "[" if matches!(rest.first().map(String::as_str), Some("-f" | "-e")) => {
                let exists = rest.get(1).is_some_and(|file| files.contains(file));
                status = if exists { 0 } else { 1 };
            }
            quiet if QUIET.contains(&quiet) => status = 0,
            _ => return Run { lines, exit: None },
        }
    }
    Run {
        lines,
        exit: Some((at, status)),
    }
}

/// Seconds of a `sleep` argument; `None` for `infinity`. Unparsable values count as zero.
fn duration(text: &str) -> Option<f64> {
    if text == "infinity" || text == "inf" {
        return None;
    }
    let (number, unit) = match text.char_indices().find(|(_, it)| it.is_ascii_alphabetic()) {
        Some((idx, _)) => text.split_at(idx),
        None => (text, "s"),
    };
    let factor = match unit {
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => 1.0,
    };
    Some(number.parse::<f64>().unwrap_or(0.0).max(0.0) * factor)
}

#[cfg(test)]
mod attempt_tests {
    use super::*;

    #[test]
    fn files_under_volume_mounts_survive_restarts() {
        let script = "test -f /state/tried && echo retry succeeded && exit 0; touch /state/tried; echo first try; exit 1";
        let command = vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()];
        let runs = interpret_attempts(&command, &[], &["/state".to_owned()]).unwrap();
        assert_eq!(runs[0].exit.map(|it| it.1), Some(1));
        assert_eq!(runs[0].lines[0].1, "first try");
        assert_eq!(runs[1].exit.map(|it| it.1), Some(0));
        assert_eq!(runs[1].lines[0].1, "retry succeeded");
        let runs = interpret_attempts(&command, &[], &[]).unwrap();
        assert_eq!(
            runs[1].exit.map(|it| it.1),
            Some(1),
            "without a volume the file is gone after a restart"
        );
        assert_eq!(
            interpret(&command, &[]).unwrap().exit.map(|it| it.1),
            Some(1)
        );
    }
}
