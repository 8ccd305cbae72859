//! The vocabulary `words.rs` reads amounts with: number words in es, pt and en, currency
//! names, and the words around a bare number that make it a price or something else.

use crate::domain::Currency;

/// What a number word contributes.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    Add(u32),
    Hundred,
    Thousand,
    Million,
}

pub fn part(word: &str) -> Option<Part> {
    use Part::*;
    Some(match word {
        "cero" | "zero" => Add(0),
        "un" | "uno" | "una" | "um" | "uma" | "one" => Add(1),
        "dos" | "dois" | "duas" | "two" => Add(2),
        "tres" | "three" => Add(3),
        "cuatro" | "quatro" | "four" => Add(4),
        "cinco" | "five" => Add(5),
        "seis" | "six" => Add(6),
        "siete" | "sete" | "seven" => Add(7),
        "ocho" | "oito" | "eight" => Add(8),
        "nueve" | "nove" | "nine" => Add(9),
        "diez" | "dez" | "ten" => Add(10),
        "once" | "onze" | "eleven" => Add(11),
        "doce" | "doze" | "twelve" => Add(12),
        "trece" | "treze" | "thirteen" => Add(13),
        "catorce" | "catorze" | "quatorze" | "fourteen" => Add(14),
        "quince" | "quinze" | "fifteen" => Add(15),
        "dieciseis" | "dezesseis" | "dezasseis" | "sixteen" => Add(16),
        "diecisiete" | "dezessete" | "dezassete" | "seventeen" => Add(17),
        "dieciocho" | "dezoito" | "eighteen" => Add(18),
        "diecinueve" | "dezenove" | "dezanove" | "nineteen" => Add(19),
        "veinte" | "vinte" | "twenty" => Add(20),
        "veintiun" | "veintiuno" | "veintiuna" => Add(21),
        "veintidos" => Add(22),
        "veintitres" => Add(23),
        "veinticuatro" => Add(24),
        "veinticinco" => Add(25),
        "veintiseis" => Add(26),
        "veintisiete" => Add(27),
        "veintiocho" => Add(28),
        "veintinueve" => Add(29),
        "treinta" | "trinta" | "thirty" => Add(30),
        "cuarenta" | "quarenta" | "forty" => Add(40),
        "cincuenta" | "cinquenta" | "fifty" => Add(50),
        "sesenta" | "sessenta" | "sixty" => Add(60),
        "setenta" | "seventy" => Add(70),
        "ochenta" | "oitenta" | "eighty" => Add(80),
        "noventa" | "ninety" => Add(90),
        "cien" | "ciento" | "cem" | "cento" => Add(100),
        "doscientos" | "doscientas" | "duzentos" | "duzentas" => Add(200),
        "trescientos" | "trescientas" | "trezentos" | "trezentas" => Add(300),
        "cuatrocientos" | "cuatrocientas" | "quatrocentos" | "quatrocentas" => Add(400),
        "quinientos" | "quinientas" | "quinhentos" | "quinhentas" => Add(500),
        "seiscientos" | "seiscientas" | "seiscentos" | "seiscentas" => Add(600),
        "setecientos" | "setecientas" | "setecentos" | "setecentas" => Add(700),
        "ochocientos" | "ochocientas" | "oitocentos" | "oitocentas" => Add(800),
        "novecientos" | "novecientas" | "novecentos" | "novecentas" => Add(900),
        "hundred" => Hundred,
        "mil" | "k" | "thousand" => Thousand,
        "millon" | "millones" | "milhao" | "milhoes" | "million" | "millions" => Million,
        _ => return None,
    })
}

/// Words that are numbers only in front of a multiplier: "a hundred", "un millón".
pub fn is_weak(word: &str) -> bool {
    matches!(word, "a" | "un" | "una" | "um" | "uma" | "one")
}

pub fn is_connector(word: &str) -> bool {
    matches!(word, "y" | "e" | "and")
}

pub fn currency_word(word: &str) -> Option<Currency> {
    Some(match word {
        "dolar" | "dolares" | "dollar" | "dollars" | "usd" | "bucks" => Currency::Usd,
        "euro" | "euros" | "eur" => Currency::Eur,
        "real" | "reais" | "reales" | "brl" => Currency::Brl,
        "peso" | "pesos" | "mxn" => Currency::Mxn,
        _ => return None,
    })
}

/// Words after which a bare number is a price.
#[rustfmt::skip]
const PRICE_CUES: &[&str] = &[
    "cuesta", "cuestan", "costo", "coste", "vale", "valen", "sale", "salen", "precio", "pagas",
    "pagar", "pagarias", "inversion", "cuota", "cuotas", "pagos", "mensualidad", "custa",
    "custam", "preco", "valor", "investimento", "parcela", "parcelas", "mensalidade", "costs",
    "cost", "price", "priced", "fee", "tuition", "payments", "instalments", "installments", "x",
];

pub fn is_price_cue(word: &str) -> bool {
    PRICE_CUES.contains(&word)
}

/// Words that may stand between a price word and its number.
#[rustfmt::skip]
const FILLERS: &[&str] = &[
    "de", "del", "da", "do", "solo", "so", "apenas", "only", "just", "unos", "unas", "uns",
    "umas", "around", "about", "aprox", "por", "of", "es", "son", "sao", "e", "is", "are", "el",
    "o", "the", "total", "partir", "from", "desde", "mensuales", "mensais", "monthly",
];

pub fn is_filler(word: &str) -> bool {
    FILLERS.contains(&word)
}

/// Words after a number that make it something other than money.
#[rustfmt::skip]
const UNITS: &[&str] = &[
    "semana", "semanas", "week", "weeks", "hora", "horas", "hour", "hours", "h", "hs", "hrs",
    "min", "minutos", "minutes", "mes", "meses", "month", "months", "dia", "dias", "day", "days",
    "ano", "anos", "year", "years", "cuotas", "pagos", "parcelas", "payments", "instalments",
    "installments", "vezes", "veces", "times", "x", "alumnos", "alunos", "students", "modulos",
    "modules", "clases", "aulas", "classes", "am", "pm", "de", "of", "por", "percent",
    "porcentaje", "personas", "pessoas", "people", "cursos", "courses", "proyectos", "projetos",
    "projects",
];

pub fn is_unit(word: &str) -> bool {
    UNITS.contains(&word)
}
