//! HTML-only mail to plain text, for the trimmer and the pipeline.

/// The text of an HTML body: paragraphs and line breaks kept, quotes as `>` lines, no markup.
pub fn html_to_text(html: &str) -> String {
    match html2text::config::plain_no_decorate().string_from_read(html.as_bytes(), 10_000) {
        Ok(text) => text
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned(),
        // html2text only fails on I/O, which a byte slice never has; keep the words regardless.
        Err(_) => html.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_words_and_the_quote_marks() {
        let text = super::html_to_text(
            "<div dir=\"ltr\">¿Cuánto cuesta el curso?<br>Gracias</div><div class=\"gmail_quote\">El lun, Tuesday escribió:<blockquote>Hola</blockquote></div>",
        );
        assert!(text.starts_with("¿Cuánto cuesta el curso?\nGracias"), "{text}");
        assert!(text.contains("escribió:"), "{text}");
        assert!(text.contains("> Hola"), "{text}");
    }
}
