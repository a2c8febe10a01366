#!/usr/bin/env python3
"""Deterministic synthetic English -> Chinese corpus for the default simdformer translator.

A small hand-written grammar (subjects, verbs, objects, adjectives, numbers with measure words, times,
places, negation, tense/aspect, questions, modals, "be" and "there is" sentences) generates aligned
sentence pairs. Chinese word order differs where it should: time and place phrases move before the verb
("I read books in the library" -> 我在图书馆看书), aspect is marked with 了/正在/会, numbers take measure
words (three books -> 三本书, two -> 两), "there is X in Y" -> Y里有X, "call X" -> 给X打电话.

Held-out split: a fixed random subset of (verb, object noun) and (adjective, noun) pairs never appears
in training; the valid and test splits contain only sentences with at least one such unseen pair.

Usage: /usr/bin/python3 tools/translator/corpus.py [--out tools/translator/out]
Writes train.tsv, valid.tsv, test.tsv (english \\t chinese) and corpus_info.json.
"""
import argparse
import json
import os
import random

SEED = 20261124
N_TRAIN_SAMPLES = 150000  # samples drawn before de-duplication
N_VALID = 300
N_TEST = 300
HOLDOUT_VO_FRACTION = 0.10
HOLDOUT_AN_FRACTION = 0.12

# ----------------------------------------------------------------------------------------------- lexicon
# Subjects: english, chinese, agreement (1sg | 2 | 3sg | pl); object form for persons used as objects.
PRONOUNS = [
    ("i", "我", "1sg", "me"), ("you", "你", "2", "you"), ("he", "他", "3sg", "him"),
    ("she", "她", "3sg", "her"), ("we", "我们", "pl", "us"), ("they", "他们", "pl", "them"),
]
POSSESSIVES = [("my", "我"), ("your", "你"), ("his", "他"), ("her", "她"), ("our", "我们"), ("their", "他们")]
FAMILY = [  # possessive + family noun: no 的 in Chinese (我妈妈)
    ("mother", "妈妈"), ("father", "爸爸"), ("brother", "哥哥"), ("sister", "姐姐"), ("grandmother", "奶奶"),
    ("grandfather", "爷爷"), ("son", "儿子"), ("daughter", "女儿"), ("wife", "妻子"), ("husband", "丈夫"),
    ("uncle", "叔叔"), ("aunt", "阿姨"),
]
PEOPLE = [  # singular, plural, chinese
    ("friend", "friends", "朋友"), ("teacher", "teachers", "老师"), ("doctor", "doctors", "医生"),
    ("student", "students", "学生"), ("child", "children", "孩子"), ("boy", "boys", "男孩"),
    ("girl", "girls", "女孩"), ("neighbor", "neighbors", "邻居"), ("classmate", "classmates", "同学"),
    ("colleague", "colleagues", "同事"), ("engineer", "engineers", "工程师"), ("nurse", "nurses", "护士"),
    ("driver", "drivers", "司机"), ("farmer", "farmers", "农民"), ("scientist", "scientists", "科学家"),
    ("artist", "artists", "艺术家"), ("writer", "writers", "作家"), ("manager", "managers", "经理"),
    ("chef", "chefs", "厨师"), ("worker", "workers", "工人"), ("lawyer", "lawyers", "律师"),
    ("programmer", "programmers", "程序员"), ("singer", "singers", "歌手"), ("player", "players", "球员"),
]
NAMES = [("tom", "汤姆"), ("lucy", "露西"), ("mary", "玛丽"), ("jack", "杰克"), ("li ming", "李明"),
         ("wang fang", "王芳"), ("david", "大卫"), ("anna", "安娜"), ("peter", "彼得"), ("emma", "艾玛")]

# Object nouns: key, singular, plural, chinese, measure word, kind (count | mass | plural), category.
N = []


def _nouns(cat, rows):
    for r in rows:
        if r[2] not in ("mass", "plural"):  # count noun
            sg, pl, zh, cl = r
            N.append(dict(key=sg, sg=sg, pl=pl, zh=zh, cl=cl, kind="count", cat=cat))
        else:  # mass or plural-only noun: english, chinese, kind[, measure word for this/that]
            en, zh, kind = r[0], r[1], r[2]
            cl = r[3] if len(r) > 3 else None
            N.append(dict(key=en, sg=en, pl=en, zh=zh, cl=cl, kind=kind, cat=cat))


_nouns("food", [
    ("apple", "apples", "苹果", "个"), ("banana", "bananas", "香蕉", "根"), ("orange", "oranges", "橙子", "个"),
    ("egg", "eggs", "鸡蛋", "个"), ("cake", "cakes", "蛋糕", "块"), ("sandwich", "sandwiches", "三明治", "个"),
    ("pear", "pears", "梨", "个"), ("peach", "peaches", "桃子", "个"), ("watermelon", "watermelons", "西瓜", "个"),
    ("tomato", "tomatoes", "西红柿", "个"), ("potato", "potatoes", "土豆", "个"),
    ("cookie", "cookies", "饼干", "块"), ("strawberry", "strawberries", "草莓", "颗"),
    ("bread", "面包", "mass"), ("rice", "米饭", "mass", "碗"), ("noodles", "面条", "plural"),
    ("dumplings", "饺子", "plural"), ("meat", "肉", "mass"), ("vegetables", "蔬菜", "plural"),
    ("fruit", "水果", "mass"), ("soup", "汤", "mass", "碗"), ("chicken", "鸡肉", "mass"), ("candy", "糖", "mass"),
])
_nouns("drink", [
    ("water", "水", "mass", "杯"), ("tea", "茶", "mass", "杯"), ("coffee", "咖啡", "mass", "杯"),
    ("milk", "牛奶", "mass", "杯"), ("juice", "果汁", "mass", "杯"), ("beer", "啤酒", "mass", "杯"),
])
_nouns("read", [
    ("book", "books", "书", "本"), ("newspaper", "newspapers", "报纸", "份"), ("letter", "letters", "信", "封"),
    ("story", "stories", "故事", "个"), ("magazine", "magazines", "杂志", "本"), ("novel", "novels", "小说", "本"),
    ("poem", "poems", "诗", "首"), ("report", "reports", "报告", "份"), ("email", "emails", "邮件", "封"),
])
_nouns("media", [("movie", "movies", "电影", "部"), ("match", "matches", "比赛", "场"),
                 ("tv", "电视", "mass"), ("news", "新闻", "mass")])
_nouns("song", [("song", "songs", "歌", "首")])
_nouns("animal", [
    ("cat", "cats", "猫", "只"), ("dog", "dogs", "狗", "只"), ("bird", "birds", "鸟", "只"),
    ("horse", "horses", "马", "匹"), ("rabbit", "rabbits", "兔子", "只"), ("panda", "pandas", "熊猫", "只"),
    ("tiger", "tigers", "老虎", "只"), ("duck", "ducks", "鸭子", "只"), ("monkey", "monkeys", "猴子", "只"),
])
_nouns("thing", [
    ("phone", "phones", "手机", "部"), ("computer", "computers", "电脑", "台"), ("car", "cars", "车", "辆"),
    ("bike", "bikes", "自行车", "辆"), ("bag", "bags", "包", "个"), ("hat", "hats", "帽子", "顶"),
    ("pen", "pens", "笔", "支"), ("key", "keys", "钥匙", "把"), ("cup", "cups", "杯子", "个"),
    ("box", "boxes", "盒子", "个"), ("umbrella", "umbrellas", "伞", "把"), ("table", "tables", "桌子", "张"),
    ("chair", "chairs", "椅子", "把"), ("picture", "pictures", "画", "幅"), ("ticket", "tickets", "票", "张"),
    ("gift", "gifts", "礼物", "个"), ("camera", "cameras", "相机", "台"), ("dish", "dishes", "盘子", "个"),
    ("shirt", "shirts", "衬衫", "件"), ("dress", "dresses", "裙子", "条"), ("ball", "balls", "球", "个"),
    ("toy", "toys", "玩具", "个"), ("map", "maps", "地图", "张"), ("lamp", "lamps", "灯", "盏"),
    ("bottle", "bottles", "瓶子", "个"), ("clothes", "衣服", "plural"), ("shoes", "鞋", "plural"),
])
_nouns("home", [("house", "houses", "房子", "座"), ("room", "rooms", "房间", "个"),
                ("door", "doors", "门", "扇"), ("window", "windows", "窗户", "扇")])
_nouns("plant", [("flower", "flowers", "花", "朵"), ("tree", "trees", "树", "棵")])
_nouns("field", [
    ("deep learning", "深度学习", "mass"), ("machine learning", "机器学习", "mass"), ("math", "数学", "mass"),
    ("physics", "物理", "mass"), ("chemistry", "化学", "mass"), ("history", "历史", "mass"),
    ("biology", "生物", "mass"), ("music", "音乐", "mass"), ("art", "艺术", "mass"),
    ("computer science", "计算机科学", "mass"), ("programming", "编程", "mass"), ("economics", "经济学", "mass"),
    ("literature", "文学", "mass"), ("philosophy", "哲学", "mass"), ("geography", "地理", "mass"),
])
_nouns("language", [("chinese", "中文", "mass"), ("english", "英语", "mass"), ("french", "法语", "mass"),
                    ("japanese", "日语", "mass"), ("german", "德语", "mass"), ("spanish", "西班牙语", "mass")])
NOUN = {n["key"]: n for n in N}

# Adjectives: english, attributive chinese (before a noun), predicative chinese (after 很), categories.
COLOR = ("thing", "animal", "plant", "home")
ADJECTIVES = [
    ("big", "大", "大", ("thing", "animal", "home", "food", "plant")),
    ("small", "小", "小", ("thing", "animal", "home", "food", "plant")),
    ("new", "新", "新", ("thing", "read", "home", "song", "media")),
    ("old", "旧", "旧", ("thing", "home")),
    ("red", "红色的", None, COLOR + ("food",)), ("white", "白色的", None, COLOR),
    ("black", "黑色的", None, COLOR), ("blue", "蓝色的", None, COLOR),
    ("green", "绿色的", None, COLOR + ("food",)), ("yellow", "黄色的", None, COLOR + ("food",)),
    ("hot", "热", "热", ("drink",)), ("cold", "冷", "冷", ("drink",)),
    ("beautiful", "漂亮的", "漂亮", ("plant", "home", "animal", "thing", "song")),
    ("expensive", "贵的", "贵", ("thing", "home", "food", "drink")),
    ("cheap", "便宜的", "便宜", ("thing", "home", "food", "drink")),
    ("interesting", "有趣的", "有趣", ("read", "media", "field", "song")),
    ("delicious", "好吃的", "好吃", ("food",)), ("fresh", "新鲜的", "新鲜", ("food",)),
    ("sweet", "甜的", "甜", ("food",)), ("heavy", "重的", "重", ("thing",)),
    ("clean", "干净的", "干净", ("thing", "home")), ("cute", "可爱的", "可爱", ("animal",)),
    ("famous", "有名的", "有名", ("read", "media", "song")), ("long", "长的", "长", ("read", "media", "song")),
    ("short", "短的", "短", ("read", "media", "song")),
]
ADJ = {a[0]: a for a in ADJECTIVES}
NEGATABLE_ADJ = {"big", "small", "new", "old", "hot", "cold", "beautiful", "expensive", "cheap",
                 "delicious", "fresh", "sweet", "heavy", "clean", "cute", "famous", "long", "short"}

NUMBERS = [("two", "两"), ("three", "三"), ("four", "四"), ("five", "五"), ("six", "六"),
           ("seven", "七"), ("eight", "八"), ("nine", "九"), ("ten", "十")]

# Places: english phrase, chinese "在..." phrase, locative (for "there is ... in ...").
PLACES = {
    "library": ("in the library", "在图书馆"), "home": ("at home", "在家"), "school": ("at school", "在学校"),
    "park": ("in the park", "在公园"), "office": ("in the office", "在办公室"),
    "kitchen": ("in the kitchen", "在厨房"), "hospital": ("at the hospital", "在医院"),
    "restaurant": ("in the restaurant", "在餐厅"), "store": ("at the store", "在商店"),
    "market": ("at the market", "在市场"), "garden": ("in the garden", "在花园"),
    "classroom": ("in the classroom", "在教室"), "company": ("at the company", "在公司"),
    "cafe": ("in the cafe", "在咖啡馆"), "river": ("in the river", "在河里"), "beijing": ("in beijing", "在北京"),
    "shanghai": ("in shanghai", "在上海"), "china": ("in china", "在中国"), "gym": ("at the gym", "在健身房"),
    "street": ("on the street", "在街上"), "station": ("at the station", "在车站"),
}
LOCATIVES = [("in the garden", "花园里"), ("in the room", "房间里"), ("in the kitchen", "厨房里"),
             ("in the park", "公园里"), ("in the box", "盒子里"), ("on the table", "桌子上"),
             ("on the chair", "椅子上"), ("in the bag", "包里"), ("in the classroom", "教室里"),
             ("in the library", "图书馆里"), ("on the tree", "树上"), ("in the car", "车里")]
TIMES = {  # english, chinese
    "generic": [("every day", "每天"), ("every morning", "每天早上"), ("every evening", "每天晚上"),
                ("on weekends", "周末"), ("in the morning", "早上"), ("in the evening", "晚上"),
                ("at night", "晚上"), ("every week", "每周")],
    "past": [("yesterday", "昨天"), ("last night", "昨天晚上"), ("last week", "上周"),
             ("last month", "上个月"), ("last year", "去年"), ("this morning", "今天早上"),
             ("yesterday morning", "昨天早上"), ("two days ago", "两天前")],
    "future": [("tomorrow", "明天"), ("next week", "下周"), ("next month", "下个月"), ("next year", "明年"),
               ("tonight", "今天晚上"), ("tomorrow morning", "明天早上"), ("this weekend", "这个周末")],
    "now": [("now", "现在"), ("right now", "现在")],
}
ADVERBS = [("often", "经常"), ("usually", "通常"), ("sometimes", "有时候"), ("always", "总是"), ("never", "从不")]

# Verbs: key, base, 3sg, past, -ing, chinese template, object categories (None = intransitive),
# stative (no progressive / past), places.  Template: {o} object, {le} aspect marker 了 (or nothing).
ALL_PLACES = tuple(PLACES)
INDOOR = ("home", "library", "office", "school", "classroom", "cafe", "company")
V = []


def _verb(key, forms, zh, cats, stative=False, places=("home",), skill=False, en=None):
    base, s3, past, ing = forms.split()
    V.append(dict(key=key, base=base, s3=s3, past=past, ing=ing, zh=zh, cats=cats, stative=stative,
                  places=places, skill=skill, particle=en))


_verb("like", "like likes liked liking", "喜欢{o}",
      ("food", "drink", "read", "media", "animal", "field", "thing", "song", "plant", "person"), stative=True)
_verb("love", "love loves loved loving", "爱{o}", ("person", "animal", "field", "food", "drink"), stative=True)
_verb("hate", "hate hates hated hating", "讨厌{o}", ("food", "drink", "field", "media"), stative=True)
_verb("want", "want wants wanted wanting", "想要{o}", ("food", "drink", "thing", "animal", "plant", "read"),
      stative=True)
_verb("need", "need needs needed needing", "需要{o}", ("food", "drink", "thing", "read"), stative=True)
_verb("know", "know knows knew knowing", "认识{o}", ("person",), stative=True)
_verb("miss", "miss misses missed missing", "想{o}", ("person",), stative=True)
_verb("have", "have has had having", "有{o}", ("thing", "animal", "read", "home"), stative=True)
_verb("eat", "eat eats ate eating", "吃{le}{o}", ("food",), places=("home", "restaurant", "kitchen", "cafe", "park"))
_verb("drink", "drink drinks drank drinking", "喝{le}{o}", ("drink",),
      places=("home", "cafe", "restaurant", "office", "kitchen"))
_verb("buy", "buy buys bought buying", "买{le}{o}", ("food", "drink", "thing", "read", "animal", "plant"),
      places=("store", "market", "beijing", "shanghai"))
_verb("sell", "sell sells sold selling", "卖{le}{o}", ("food", "thing", "animal", "plant"),
      places=("market", "store", "street"))
_verb("read", "read reads read reading", "看{le}{o}", ("read",), places=("library", "home", "cafe", "classroom", "park"))
_verb("write", "write writes wrote writing", "写{le}{o}", ("read", "song"), places=("office", "home", "library"))
_verb("study", "study studies studied studying", "学习{le}{o}", ("field", "language"),
      places=("school", "library", "home", "china", "classroom"))
_verb("learn", "learn learns learned learning", "学{le}{o}", ("field", "language"), places=("school", "home", "china"))
_verb("teach", "teach teaches taught teaching", "教{le}{o}", ("field", "language"), places=("school", "classroom"))
_verb("speak", "speak speaks spoke speaking", "说{le}{o}", ("language",), places=("home", "school", "office"),
      skill=True)
_verb("cook", "cook cooks cooked cooking", "做{le}{o}", ("food",), places=("kitchen", "home", "restaurant"))
_verb("wash", "wash washes washed washing", "洗{le}{o}", ("thing", "food"), places=("home", "kitchen"))
_verb("clean", "clean cleans cleaned cleaning", "打扫{le}{o}", ("home",), places=("home",))
_verb("watch", "watch watches watched watching", "看{le}{o}", ("media",), places=("home", "cafe"))
_verb("see", "see sees saw seeing", "看见{le}{o}", ("animal", "person", "thing", "plant"),
      places=("park", "street", "garden", "station"))
_verb("draw", "draw draws drew drawing", "画{le}{o}", ("animal", "plant", "home", "thing"),
      places=("home", "classroom", "park"))
_verb("open", "open opens opened opening", "打开{le}{o}", ("home", "thing", "read"), places=("home", "office"))
_verb("visit", "visit visits visited visiting", "拜访{le}{o}", ("person",), places=("beijing", "shanghai", "hospital"))
_verb("help", "help helps helped helping", "帮助{le}{o}", ("person",), places=("home", "office", "school", "hospital"))
_verb("call", "call calls called calling", "给{o}打{le}电话", ("person",), places=("home", "office"))
_verb("meet", "meet meets met meeting", "见{le}{o}", ("person",), places=("cafe", "station", "park", "restaurant"))
_verb("find", "find finds found finding", "找到{le}{o}", ("thing", "animal"), places=("home", "office", "park"))
_verb("lose", "lose loses lost losing", "丢{le}{o}", ("thing",), places=("street", "station", "park"))
_verb("bring", "bring brings brought bringing", "带{le}{o}", ("thing", "food", "drink", "read"),
      places=("school", "office"))
_verb("make", "make makes made making", "做{le}{o}", ("food",), places=("kitchen", "home"))
_verb("use", "use uses used using", "用{le}{o}", ("thing",), places=("office", "home", "school"))
_verb("fix", "fix fixes fixed fixing", "修{le}{o}", ("thing", "home"), places=("home", "office"))
_verb("feed", "feed feeds fed feeding", "喂{le}{o}", ("animal",), places=("park", "garden", "home"))
_verb("plant", "plant plants planted planting", "种{le}{o}", ("plant",), places=("garden", "park"))
_verb("sing", "sing sings sang singing", "唱{le}{o}", ("song",), places=("home", "school", "park"))
_verb("listen", "listen listens listened listening", "听{le}{o}", ("song", "news"), places=("home", "office", "cafe"),
      en="to")
_verb("look", "look looks looked looking", "找{le}{o}", ("thing", "animal", "person"), places=("home", "office", "park"),
      en="for", stative=False)
_verb("play", "play plays played playing", None, ("sport",), places=("park", "school", "home", "gym"), skill=True)
# Intransitive verbs (a verb-object compound in Chinese takes 了 at its end).
_verb("work", "work works worked working", "工作{le}", None, places=("office", "company", "hospital", "beijing",
                                                                      "shanghai", "home", "school", "restaurant"))
_verb("study_i", "study studies studied studying", "学习{le}", None, places=("school", "library", "home", "classroom"))
_verb("sleep", "sleep sleeps slept sleeping", "睡觉{le}", None, places=("home",))
_verb("run", "run runs ran running", "跑步{le}", None, places=("park", "gym", "street", "school"), skill=False)
_verb("swim", "swim swims swam swimming", "游泳{le}", None, places=("river", "gym"), skill=True)
_verb("sing_i", "sing sings sang singing", "唱歌{le}", None, places=("home", "park", "school"), skill=True)
_verb("dance", "dance dances danced dancing", "跳舞{le}", None, places=("park", "home", "school"), skill=True)
_verb("rest", "rest rests rested resting", "休息{le}", None, places=("home", "office", "park"))
_verb("cook_i", "cook cooks cooked cooking", "做饭{le}", None, places=("kitchen", "home"), skill=True)
_verb("walk", "walk walks walked walking", "散步{le}", None, places=("park", "garden", "street"))
_verb("play_i", "play plays played playing", "玩{le}", None, places=("park", "garden", "home", "school"))
_verb("shop", "shop shops shopped shopping", "购物{le}", None, places=("market", "beijing", "shanghai", "store"))
_verb("exercise", "exercise exercises exercised exercising", "锻炼{le}", None, places=("gym", "park"))
_verb("wait", "wait waits waited waiting", "等{le}", None, places=("station", "cafe", "street"))
VERB = {v["key"]: v for v in V}
# "play" takes a sport/instrument and the Chinese verb depends on it.
SPORTS = [("football", "踢", "足球"), ("basketball", "打", "篮球"), ("tennis", "打", "网球"),
          ("the piano", "弹", "钢琴"), ("the guitar", "弹", "吉他"), ("chess", "下", "棋"),
          ("games", "玩", "游戏"), ("video games", "玩", "电子游戏")]
MODALS = [  # english, english 3sg, chinese, chinese negative, english negative (non-3sg, 3sg), skill only
    ("want to", "wants to", "想", "不想", ("do not want to", "does not want to"), False),
    ("like to", "likes to", "喜欢", "不喜欢", ("do not like to", "does not like to"), False),
    ("need to", "needs to", "需要", "不需要", ("do not need to", "does not need to"), False),
    ("can", "can", "会", "不会", ("cannot", "cannot"), True),
    ("must", "must", "必须", None, None, False),
]
FIXED = [("hello", "你好"), ("thank you", "谢谢"), ("good morning", "早上好"), ("good night", "晚安"),
         ("goodbye", "再见"), ("how are you ?", "你好吗？"), ("i am fine .", "我很好。"),
         ("thank you very much", "非常感谢"), ("nice to meet you", "很高兴认识你"),
         ("what is your name ?", "你叫什么名字？"), ("see you tomorrow", "明天见"), ("sorry", "对不起")]
# Demo sentences: always in the training set, written by hand by the grammar's rules (if the grammar also
# generates one, the conflict check proves they agree); their pairs are never held out.
DEMOS = [
    ("i like deep learning", "我喜欢深度学习"), ("i read books in the library", "我在图书馆看书"),
    ("we ate apples yesterday", "我们昨天吃了苹果"), ("my mother bought three red apples .", "我妈妈买了三个红色的苹果。"),
    ("do you like music ?", "你喜欢音乐吗？"), ("this book is very interesting .", "这本书非常有趣。"),
    ("they will play football in the park tomorrow", "他们明天会在公园踢足球"),
    ("there are two cats in the garden .", "花园里有两只猫。"), ("she is drinking tea at home", "她正在家喝茶"),
    ("i want to learn chinese", "我想学中文"), ("he called his friend last night", "他昨天晚上给他的朋友打了电话"),
]
DEMO_PAIRS = {("vo", "like", "deep learning"), ("vo", "read", "book"), ("vo", "eat", "apple"),
              ("vo", "buy", "apple"), ("an", "red", "apple"), ("vo", "like", "music"),
              ("an", "interesting", "book"), ("vo", "drink", "tea"), ("vo", "learn", "chinese")}


# ------------------------------------------------------------------------------------------- generator
class Phrase:
    """An aligned fragment: english words, chinese string, pairs used (for the held-out split)."""

    def __init__(self, en, zh, pairs=(), agr=None):
        self.en, self.zh, self.pairs, self.agr = en, zh, set(pairs), agr


def article(word):
    return "an" if word[0] in "aeiou" else "a"


class Grammar:
    def __init__(self, rng):
        self.r = rng

    def pick(self, xs):
        return xs[self.r.randrange(len(xs))]

    def chance(self, p):
        return self.r.random() < p

    # ---- people
    def person(self, subject):
        """A person noun phrase; subject=True uses subject pronouns."""
        r = self.r.random()
        if r < 0.40:
            en, zh, agr, obj = self.pick(PRONOUNS)
            return Phrase([en if subject else obj], zh, agr=agr)
        if r < 0.58:
            pen, pzh = self.pick(POSSESSIVES[:4])
            fen, fzh = self.pick(FAMILY)
            return Phrase([pen, fen], pzh + fzh, agr="3sg")
        if r < 0.85:
            sg, pl, zh = self.pick(PEOPLE)
            plural = self.chance(0.4)
            if self.chance(0.5):
                pen, pzh = self.pick(POSSESSIVES)
                return Phrase([pen, pl if plural else sg], pzh + "的" + zh + ("们" if plural else ""),
                              agr="pl" if plural else "3sg")
            return Phrase(["the", pl if plural else sg], zh + ("们" if plural else ""), agr="pl" if plural else "3sg")
        en, zh = self.pick(NAMES)
        return Phrase(en.split(), zh, agr="3sg")

    # ---- object noun phrases
    def adjective_for(self, noun, pred=False):
        cands = [a for a in ADJECTIVES if noun["cat"] in a[3] and (not pred or a[2] is not None)]
        return self.pick(cands) if cands else None

    def noun_phrase(self, noun):
        r = self.r.random()
        adj = self.adjective_for(noun) if self.chance(0.35) else None
        pairs = {("an", adj[0], noun["key"])} if adj else set()
        aen = [adj[0]] if adj else []
        azh = adj[1] if adj else ""
        count = noun["kind"] == "count"
        plural_en = noun["pl"].split()
        if noun["cat"] in ("field", "language") or noun["key"] in ("tv", "news"):
            return Phrase(aen + plural_en, azh + noun["zh"], pairs)  # no determiners: "I like (interesting) math"
        if count and r < 0.22:
            first = (aen + noun["sg"].split())[0]
            return Phrase([article(first)] + aen + noun["sg"].split(), "一" + noun["cl"] + azh + noun["zh"], pairs)
        if count and r < 0.40:
            nen, nzh = self.pick(NUMBERS)
            return Phrase([nen] + aen + plural_en, nzh + noun["cl"] + azh + noun["zh"], pairs)
        if r < 0.50:
            return Phrase(["some"] + aen + plural_en, "一些" + azh + noun["zh"], pairs)
        if r < 0.57 and noun["kind"] != "mass":
            return Phrase(["many"] + aen + plural_en, "很多" + azh + noun["zh"], pairs)
        if r < 0.67 and noun["cl"] is not None:
            near = self.chance(0.5)
            plural_dem = (count and self.chance(0.5)) or noun["kind"] == "plural"
            if plural_dem:
                return Phrase([("these" if near else "those")] + aen + plural_en,
                              ("这些" if near else "那些") + azh + noun["zh"], pairs)
            return Phrase([("this" if near else "that")] + aen + noun["sg"].split(),
                          ("这" if near else "那") + noun["cl"] + azh + noun["zh"], pairs)
        if r < 0.77 and noun["cat"] != "media":
            pen, pzh = self.pick(POSSESSIVES)
            words = noun["sg"].split() if (count and self.chance(0.5)) else plural_en
            return Phrase([pen] + aen + words, pzh + "的" + azh + noun["zh"], pairs)
        return Phrase(aen + plural_en, azh + noun["zh"], pairs)

    def object_for(self, verb):
        cat = self.pick(verb["cats"])
        if cat == "person":
            p = self.person(subject=False)
            return p, None
        if cat == "sport":
            en, v, o = self.pick(SPORTS)
            return Phrase(en.split(), o), v
        if cat == "news":
            noun = NOUN["news"]
        else:
            noun = self.pick([n for n in N if n["cat"] == cat])
        np_ = self.noun_phrase(noun)
        np_.pairs.add(("vo", verb["key"], noun["key"]))
        return np_, None

    # ---- verb phrase rendering
    @staticmethod
    def vp_zh(verb, obj, play_verb, le):
        if verb["key"] == "play":
            return play_verb + ("了" if le else "") + obj.zh
        return verb["zh"].format(o=obj.zh if obj else "", le="了" if le else "")

    @staticmethod
    def verb_en(verb, form):
        words = [verb[form]]
        if verb["particle"]:
            words.append(verb["particle"])
        return words

    def clause(self):
        """Subject-verb(-object) sentence with tense/aspect, negation, questions, places and times."""
        verb = self.pick(V)
        subj = self.person(subject=True)
        obj, play_v = (self.object_for(verb) if verb["cats"] else (None, None))
        trans = obj is not None
        aspects = ["plain", "neg", "q"] + ([] if verb["stative"] else ["past", "past", "pastneg", "pastq",
                                                                         "fut", "futneg", "futq", "prog", "progq"])
        aspect = self.pick(aspects)
        place = None
        if not verb["stative"] and self.chance(0.45 if trans else 0.75):
            place = PLACES[self.pick(verb["places"])]
        time = None
        adverb = None
        if aspect in ("plain",) and not verb["stative"]:
            if self.chance(0.35):
                time = self.pick(TIMES["generic"])
            elif self.chance(0.2):
                adverb = self.pick(ADVERBS)
        elif aspect.startswith("past"):
            if self.chance(0.7) or (verb["past"] == verb["base"] and subj.agr != "3sg"):
                time = self.pick(TIMES["past"])
        elif aspect.startswith("fut"):
            if self.chance(0.7):
                time = self.pick(TIMES["future"])
        elif aspect.startswith("prog"):
            if self.chance(0.25):
                time = self.pick(TIMES["now"])
        s3 = subj.agr == "3sg"
        be = {"1sg": "am", "2": "are", "3sg": "is", "pl": "are"}[subj.agr]
        do = "does" if s3 else "do"
        obj_en = obj.en if obj else []
        place_en = place[0].split() if place else []
        place_zh = place[1] if place else ""
        time_zh = time[1] if time else ""
        vz = self.vp_zh(verb, obj, play_v, False)
        vz_le = self.vp_zh(verb, obj, play_v, True)
        tail_en = obj_en + place_en
        time_front = time is not None and aspect in ("plain", "past", "fut", "neg", "pastneg", "futneg") \
            and self.chance(0.2)
        if aspect == "plain":
            adv_en = [adverb[0]] if adverb else []
            en = subj.en + adv_en + self.verb_en(verb, "s3" if s3 else "base") + tail_en
            zh = subj.zh + time_zh + (adverb[1] if adverb else "") + place_zh + vz
        elif aspect == "neg":
            en = subj.en + [do, "not"] + self.verb_en(verb, "base") + tail_en
            zh = subj.zh + time_zh + ("没" if verb["key"] == "have" else "不") + place_zh + vz
        elif aspect == "q":
            en = [do] + subj.en + self.verb_en(verb, "base") + tail_en
            zh = subj.zh + time_zh + place_zh + vz + "吗"
        elif aspect == "past":
            en = subj.en + self.verb_en(verb, "past") + tail_en
            zh = subj.zh + time_zh + place_zh + vz_le
        elif aspect == "pastneg":
            en = subj.en + ["did", "not"] + self.verb_en(verb, "base") + tail_en
            zh = subj.zh + time_zh + "没有" + place_zh + vz
        elif aspect == "pastq":
            en = ["did"] + subj.en + self.verb_en(verb, "base") + tail_en
            zh = subj.zh + time_zh + place_zh + vz_le + "吗"
        elif aspect == "fut":
            en = subj.en + ["will"] + self.verb_en(verb, "base") + tail_en
            zh = subj.zh + time_zh + "会" + place_zh + vz
        elif aspect == "futneg":
            en = subj.en + ["will", "not"] + self.verb_en(verb, "base") + tail_en
            zh = subj.zh + time_zh + "不会" + place_zh + vz
        elif aspect == "futq":
            en = ["will"] + subj.en + self.verb_en(verb, "base") + tail_en
            zh = subj.zh + time_zh + "会" + place_zh + vz + "吗"
        elif aspect == "prog":
            en = subj.en + [be] + self.verb_en(verb, "ing") + tail_en
            zh = subj.zh + time_zh + ("正" + place_zh if place else "正在") + vz
        else:  # progq
            en = [be] + subj.en + self.verb_en(verb, "ing") + tail_en
            zh = subj.zh + time_zh + ("正" + place_zh if place else "正在") + vz + "吗"
        if time:
            en = (time[0].split() + en) if time_front else (en + time[0].split())
        pairs = set(subj.pairs) | (obj.pairs if obj else set())
        return en, zh, pairs, aspect.endswith("q")

    def modal_clause(self):
        verb = self.pick([v for v in V if v["key"] not in ("have", "know", "miss", "like", "love", "hate", "want",
                                                               "need")])
        mod = self.pick(MODALS)
        if mod[5] and not verb["skill"]:  # "can" only with skills (会游泳); otherwise "want to"
            mod = MODALS[0]
        subj = self.person(subject=True)
        obj, play_v = (self.object_for(verb) if verb["cats"] else (None, None))
        s3 = subj.agr == "3sg"
        neg = mod[3] is not None and self.chance(0.3)
        place = PLACES[self.pick(verb["places"])] if self.chance(0.35) else None
        time = self.pick(TIMES["future"]) if self.chance(0.25) else None
        men = (mod[4][1 if s3 else 0] if neg else (mod[1] if s3 else mod[0])).split()
        en = subj.en + men + self.verb_en(verb, "base") + (obj.en if obj else []) + \
            (place[0].split() if place else []) + (time[0].split() if time else [])
        zh = subj.zh + (time[1] if time else "") + (mod[3] if neg else mod[2]) + (place[1] if place else "") + \
            self.vp_zh(verb, obj, play_v, False)
        return en, zh, set(obj.pairs if obj else ()), False

    def be_clause(self):
        r = self.r.random()
        subj = self.person(subject=True)
        be = {"1sg": "am", "2": "are", "3sg": "is", "pl": "are"}[subj.agr]
        neg = self.chance(0.25)
        question = not neg and self.chance(0.25)
        if r < 0.4:  # profession
            sg, pl, zh = self.pick(PEOPLE)
            comp_en = [pl] if subj.agr == "pl" else [article(sg), sg]
            comp_zh = ("不是" if neg else "是") + zh
        else:  # location
            place = PLACES[self.pick(ALL_PLACES)]
            comp_en = place[0].split()
            comp_zh = ("不" if neg else "") + place[1]
        if question:
            en = [be] + subj.en + comp_en
            zh = subj.zh + comp_zh + "吗"
        else:
            en = subj.en + [be] + (["not"] if neg else []) + comp_en
            zh = subj.zh + comp_zh
        return en, zh, set(), question

    def adjective_clause(self):
        noun = self.pick([n for n in N if n["cat"] not in ("field", "language") and n["cl"] is not None])
        adj = self.adjective_for(noun, pred=True)
        if adj is None:
            return self.be_clause()
        near = self.chance(0.5)
        count = noun["kind"] == "count"
        plural = noun["kind"] == "plural" or (count and self.chance(0.4))
        r = self.r.random()
        if r < 0.6:
            if plural:
                det_en, det_zh = ("these", "这些") if near else ("those", "那些")
                np_en, np_zh = [det_en] + noun["pl"].split(), det_zh + noun["zh"]
            else:
                det_en, det_zh = ("this", "这") if near else ("that", "那")
                np_en, np_zh = [det_en] + noun["sg"].split(), det_zh + noun["cl"] + noun["zh"]
        else:
            words = noun["pl"].split() if plural else noun["sg"].split()
            np_en, np_zh = ["the"] + words, noun["zh"]
        be = "are" if plural else "is"
        deg = self.r.random()
        if deg < 0.5:
            mod_en, mod_zh = [], "很"
        elif deg < 0.8 or adj[0] not in NEGATABLE_ADJ:
            mod_en, mod_zh = ["very"], "非常"
        else:
            mod_en, mod_zh = ["not"], "不"
        question = self.chance(0.15)
        if question:
            en = [be] + np_en + mod_en + [adj[0]]
            zh = np_zh + mod_zh + adj[2] + "吗"
        else:
            en = np_en + [be] + mod_en + [adj[0]]
            zh = np_zh + mod_zh + adj[2]
        return en, zh, {("an", adj[0], noun["key"])}, question

    def there_clause(self):
        noun = self.pick([n for n in N if n["cat"] in ("thing", "animal", "read", "food", "plant")
                          and n["kind"] == "count"])
        loc_en, loc_zh = self.pick(LOCATIVES)
        adj = self.adjective_for(noun) if self.chance(0.3) else None
        aen, azh = ([adj[0]] if adj else []), (adj[1] if adj else "")
        if self.chance(0.4):
            np_en = [article((aen + [noun["sg"]])[0])] + aen + noun["sg"].split()
            np_zh = "一" + noun["cl"] + azh + noun["zh"]
            be = "is"
        else:
            nen, nzh = self.pick(NUMBERS + [("some", "一些"), ("many", "很多")])
            np_en = [nen] + aen + noun["pl"].split()
            np_zh = nzh + (noun["cl"] if nen not in ("some", "many") else "") + azh + noun["zh"]
            be = "are"
        en = ["there", be] + np_en + loc_en.split()
        zh = loc_zh + "有" + np_zh
        pairs = {("an", adj[0], noun["key"])} if adj else set()
        return en, zh, pairs, False

    def sentence(self):
        r = self.r.random()
        if r < 0.62:
            en, zh, pairs, q = self.clause()
        elif r < 0.74:
            en, zh, pairs, q = self.modal_clause()
        elif r < 0.84:
            en, zh, pairs, q = self.adjective_clause()
        elif r < 0.92:
            en, zh, pairs, q = self.be_clause()
        elif r < 0.995:
            en, zh, pairs, q = self.there_clause()
        else:
            en, zh = self.pick(FIXED)
            return en, zh, set()
        if q:  # questions always end in "?" (吗 and ？ then hang on a local cue)
            en, zh = en + ["?"], zh + "？"
        elif self.chance(0.5):
            en, zh = en + ["."], zh + "。"
        return " ".join(en), zh, pairs


CAPITALIZED = {"i", "chinese", "english", "french", "japanese", "german", "spanish", "beijing", "shanghai", "china",
               "tv"} | {w for n, _ in NAMES for w in n.split()}


def natural(en):
    """Pretty English for the files (the tokenizer lowercases and splits punctuation anyway)."""
    words = en.split(" ")
    out = []
    for i, w in enumerate(words):
        if w in CAPITALIZED:
            w = w.upper() if w == "tv" else w.capitalize()
        if i == 0:
            w = w[0].upper() + w[1:]
        if w in (".", "?") and out:
            out[-1] += w
        else:
            out.append(w)
    return " ".join(out)


def holdout_pairs(rng):
    vo = sorted({("vo", v["key"], n["key"]) for v in V if v["cats"] for n in N if n["cat"] in v["cats"]}
                | {("vo", "listen", "news")})
    an = sorted({("an", a[0], n["key"]) for a in ADJECTIVES for n in N if n["cat"] in a[3]})
    vo = [p for p in vo if p not in DEMO_PAIRS]
    an = [p for p in an if p not in DEMO_PAIRS]
    held = set(rng.sample(vo, int(len(vo) * HOLDOUT_VO_FRACTION)))
    held |= set(rng.sample(an, int(len(an) * HOLDOUT_AN_FRACTION)))
    return held


def build(out_dir):
    rng = random.Random(SEED)
    held = holdout_pairs(rng)
    g = Grammar(random.Random(SEED + 1))
    mapping = {}
    train, heldout = [], []
    seen = set()

    def add(en, zh):
        if mapping.setdefault(en, zh) != zh:
            raise SystemExit(f"conflict: {en!r} -> {mapping[en]!r} and {zh!r}")

    for en, zh in FIXED:
        add(en, zh)
    for _ in range(N_TRAIN_SAMPLES):
        en, zh, pairs = g.sentence()
        add(en, zh)
        if en in seen:
            continue
        seen.add(en)
        (heldout if pairs & held else train).append((en, zh))
    for en, zh in FIXED:
        if en not in seen:
            seen.add(en)
            train.append((en, zh))
    for en, zh in DEMOS:
        add(en, zh)
        if en not in seen:
            seen.add(en)
            train.append((en, zh))
        elif (en, zh) not in train:
            raise SystemExit(f"demo sentence landed in the held-out split: {en!r}")
    # Covering check: every held-out sentence uses only words seen in training.
    train_words = {w for en, _ in train for w in en.split()}
    train_chars = {c for _, zh in train for c in zh}
    heldout = [(en, zh) for en, zh in heldout
               if set(en.split()) <= train_words and set(zh) <= train_chars]
    hr = random.Random(SEED + 2)
    hr.shuffle(heldout)
    valid, test = heldout[:N_VALID], heldout[N_VALID:N_VALID + N_TEST]
    os.makedirs(out_dir, exist_ok=True)
    for name, rows in (("train", train), ("valid", valid), ("test", test)):
        with open(os.path.join(out_dir, name + ".tsv"), "w", encoding="utf-8") as f:
            for en, zh in rows:
                f.write(natural(en) + "\t" + zh + "\n")
    info = dict(seed=SEED, samples=N_TRAIN_SAMPLES, train=len(train), valid=len(valid), test=len(test),
                heldout_available=len(heldout), held_out_pairs=sorted("|".join(p) for p in held),
                english_words=len(train_words), chinese_chars=len(train_chars),
                demos=[[natural(en), zh] for en, zh in DEMOS])
    with open(os.path.join(out_dir, "corpus_info.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=1)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args()
    info = build(args.out)
    print(json.dumps({k: v for k, v in info.items() if k != "held_out_pairs"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
