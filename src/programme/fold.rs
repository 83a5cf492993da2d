//! Text folded for the Suggested tab's search, so that what a person types finds a title
//! however its letters are cased or accented: "amelie" finds "Amélie", "ecole" finds
//! "ÉCOLE", "strasse" finds "Straße", "οδος" finds "ΟΔΌΣ", "istanbul" finds "İstanbul".
//!
//! The fold, applied to the query and to each title and tag alike:
//! 1. Unicode lowercase (`str::to_lowercase`: every script with case, not only ASCII);
//! 2. accents off: combining marks (U+0300–U+036F) dropped, and the precomposed Latin letters
//!    of Latin-1 and Latin Extended-A (U+00C0–U+017F, Western and Central European
//!    languages, Turkish) read as their base letter, as are Greek vowels with tonos or
//!    dialytika;
//! 3. the few letters whose case folding is not one lowercase letter: ß (and ẞ) as "ss",
//!    final ς as σ, dotless ı as i (Turkish "ISPARTA" lowercases to "isparta").
//!
//! The choice for accents: a search box is typed on whatever keyboard is at hand, so an
//! accent never keeps a title from being found, even where a language counts the letter as
//! its own (a Swede's "å" is found by "a", as web search does). Beyond Latin and Greek only
//! case folds (Cyrillic "й" is not "и", nor "ё" "е"); ligatures (æ, œ) and compatibility
//! forms (full-width letters) stay as they are. Only the queue's download calls this, so the
//! standard lowercase's tables are part of that download, not of the first one.

/// The base letter of each of U+00C0..=U+017F, `.` where the letter is kept as it is (×, ÷,
/// æ, ð, þ, ß, ĳ, ĸ, ŉ, ŋ, œ), from Unicode's canonical decompositions (plus ø, đ, ħ, ı, ł,
/// ŀ, ŧ and ſ, which have none but read as o, d, h, i, l, l, t and s).
const LATIN_BASE: &[u8; 192] = b"aaaaaa.ceeeeiiii.nooooo.ouuuuy..aaaaaa.ceeeeiiii.nooooo.ouuuuy.y\
      aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii..jjkk.lllllll\
      lllnnnnnn...oooooo..rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// `text` folded for search (see the module).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        match c {
            '\u{300}'..='\u{36F}' => {}
            'ß' => out.push_str("ss"),
            'ς' => out.push('σ'),
            'ά' => out.push('α'),
            'έ' => out.push('ε'),
            'ή' => out.push('η'),
            'ί' | 'ϊ' | 'ΐ' => out.push('ι'),
            'ό' => out.push('ο'),
            'ύ' | 'ϋ' | 'ΰ' => out.push('υ'),
            'ώ' => out.push('ω'),
            '\u{C0}'..='\u{17F}' => match LATIN_BASE[c as usize - 0xC0] {
                b'.' => out.push(c),
                base => out.push(char::from(base)),
            },
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_accents_fold_in_every_cased_script() {
        for (text, folded) in [
            ("Big Buck Bunny", "big buck bunny"),
            ("Amélie", "amelie"),
            ("ÉCOLE", "ecole"),
            ("Straße", "strasse"),
            ("STRASSE", "strasse"),
            ("\u{1E9E}", "ss"),
            ("Crème Brûlée", "creme brulee"),
            ("Łódź Żółć", "lodz zolc"),
            ("Ærøskøbing", "æroskobing"),
            // Decomposed input (e + combining acute) folds like precomposed.
            ("Ame\u{301}lie", "amelie"),
            // Greek: case, final sigma, tonos and dialytika.
            ("ΟΔΌΣ", "οδοσ"),
            ("Αθήνα", "αθηνα"),
            ("ΐ ΰ Ϊ", "ι υ ι"),
            // Turkish: dotted capital I lowercases to i and a combining dot (dropped);
            // dotless ı reads as i.
            ("İSTANBUL", "istanbul"),
            ("Isparta", "isparta"),
            ("ılık", "ilik"),
            // Cyrillic: case only.
            ("Ёлка Йод", "ёлка йод"),
            ("", ""),
        ] {
            assert_eq!(fold(text), folded, "{text:?}");
        }
    }

    #[test]
    fn the_latin_table_agrees_with_the_letters_it_names() {
        // Spot checks at both ends and the edges of its rows.
        for (c, base) in [
            ('À', 'a'),
            ('Ç', 'c'),
            ('×', '×'),
            ('ÿ', 'y'),
            ('Ā', 'a'),
            ('ĳ', 'ĳ'),
            ('ł', 'l'),
            ('ŋ', 'ŋ'),
            ('œ', 'œ'),
            ('ž', 'z'),
            ('ſ', 's'),
        ] {
            let folded = match LATIN_BASE[c as usize - 0xC0] {
                b'.' => c,
                b => char::from(b),
            };
            assert_eq!(folded, base, "{c:?}");
        }
    }
}
