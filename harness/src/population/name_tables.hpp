#pragma once
// Built-in lists the generator draws from. Every entry is a common word or an invented place:
// combined at random they describe nobody. Private to the population generator.

#include <array>
#include <string_view>

namespace kofu::population::tables {

// clang-format off

struct kana_pair {
  std::string_view kanji;
  std::string_view kana;
};

// Plain family names. None contains a confusable character, so that a variant below (髙橋) always
// has a plain twin here (高橋) for a careless server to normalise to.
inline constexpr std::array<kana_pair, 40> family_names{{
    {"佐藤", "サトウ"},   {"鈴木", "スズキ"},   {"高橋", "タカハシ"}, {"田中", "タナカ"},
    {"伊藤", "イトウ"},   {"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"},
    {"小林", "コバヤシ"}, {"加藤", "カトウ"},   {"吉田", "ヨシダ"},   {"山田", "ヤマダ"},
    {"佐々木", "ササキ"}, {"山口", "ヤマグチ"}, {"松本", "マツモト"}, {"井上", "イノウエ"},
    {"木村", "キムラ"},   {"林", "ハヤシ"},     {"斎藤", "サイトウ"}, {"清水", "シミズ"},
    {"山崎", "ヤマザキ"}, {"森", "モリ"},       {"池田", "イケダ"},   {"橋本", "ハシモト"},
    {"阿部", "アベ"},     {"石川", "イシカワ"}, {"山下", "ヤマシタ"}, {"中島", "ナカジマ"},
    {"石井", "イシイ"},   {"小川", "オガワ"},   {"前田", "マエダ"},   {"岡田", "オカダ"},
    {"長谷川", "ハセガワ"}, {"藤田", "フジタ"}, {"後藤", "ゴトウ"},   {"近藤", "コンドウ"},
    {"村上", "ムラカミ"}, {"遠藤", "エンドウ"}, {"青木", "アオキ"},   {"坂本", "サカモト"},
}};

// Family names with a character that is easy to confuse or to normalise wrongly: 髙 (U+9AD9) for
// 高, 﨑 (U+FA11) for 崎, 邊/邉 for 辺, 𠮷 (U+20BB7, outside the BMP) for 吉, and ideographic
// variation sequences (base + VS17 U+E0100), which a normaliser or a careless copy drops.
inline constexpr std::array<kana_pair, 10> confusable_family_names{{
    {"髙橋", "タカハシ"},
    {"山﨑", "ヤマザキ"},
    {"渡邊", "ワタナベ"},
    {"渡邉", "ワタナベ"},
    {"𠮷田", "ヨシダ"},
    {"𠮷川", "ヨシカワ"},
    {"髙木", "タカギ"},
    {"宮﨑", "ミヤザキ"},
    {"葛\U000E0100西", "カサイ"},
    {"辻\U000E0100本", "ツジモト"},
}};

inline constexpr std::array<kana_pair, 30> male_given_names{{
    {"太郎", "タロウ"},   {"健一", "ケンイチ"}, {"大輔", "ダイスケ"}, {"翔太", "ショウタ"},
    {"拓也", "タクヤ"},   {"直樹", "ナオキ"},   {"誠", "マコト"},     {"浩", "ヒロシ"},
    {"蓮", "レン"},       {"湊", "ミナト"},     {"陽翔", "ハルト"},   {"悠真", "ユウマ"},
    {"健太", "ケンタ"},   {"和也", "カズヤ"},   {"隆", "タカシ"},     {"修", "オサム"},
    {"勇気", "ユウキ"},   {"大和", "ヤマト"},   {"亮", "リョウ"},     {"剛", "ツヨシ"},
    {"博之", "ヒロユキ"}, {"正人", "マサト"},   {"智也", "トモヤ"},   {"一郎", "イチロウ"},
    {"清", "キヨシ"},     {"茂", "シゲル"},     {"実", "ミノル"},     {"進", "ススム"},
    {"朝陽", "アサヒ"},   {"樹", "イツキ"},
}};

inline constexpr std::array<kana_pair, 30> female_given_names{{
    {"花子", "ハナコ"},   {"美咲", "ミサキ"},   {"陽菜", "ヒナ"},     {"結衣", "ユイ"},
    {"さくら", "サクラ"}, {"葵", "アオイ"},     {"恵子", "ケイコ"},   {"裕子", "ユウコ"},
    {"由美", "ユミ"},     {"真由美", "マユミ"}, {"愛", "アイ"},       {"彩", "アヤ"},
    {"凛", "リン"},       {"芽依", "メイ"},     {"紬", "ツムギ"},     {"陽葵", "ヒマリ"},
    {"和子", "カズコ"},   {"幸子", "サチコ"},   {"洋子", "ヨウコ"},   {"久美子", "クミコ"},
    {"智子", "トモコ"},   {"直美", "ナオミ"},   {"明美", "アケミ"},   {"千尋", "チヒロ"},
    {"舞", "マイ"},       {"遥", "ハルカ"},     {"七海", "ナナミ"},   {"莉子", "リコ"},
    {"節子", "セツコ"},   {"文子", "フミコ"},
}};

inline constexpr std::array<std::string_view, 12> prefectures{{
    "北海道", "宮城県", "東京都", "神奈川県", "埼玉県", "千葉県", "愛知県", "大阪府",
    "兵庫県", "広島県", "福岡県", "沖縄県",
}};

// Invented municipalities: none of these is a real city.
inline constexpr std::array<std::string_view, 10> cities{{
    "架空市", "仮名市", "見本市", "試験市", "模擬市", "想定市", "例示町", "検証市", "演習市", "雛形村",
}};

inline constexpr std::array<std::string_view, 12> town_roots{{
    "桜町", "緑町", "旭町", "中央", "栄町", "本町", "新町", "東町", "西町", "南町", "北町", "若葉",
}};

inline constexpr std::array<std::string_view, 5> chome{{"一丁目", "二丁目", "三丁目", "四丁目", "五丁目"}};

inline constexpr std::array<std::string_view, 8> building_names{{
    "コーポ", "ハイツ", "メゾン", "レジデンス", "荘", "住宅", "マンション", "",
}};

// clang-format on

}  // namespace kofu::population::tables
