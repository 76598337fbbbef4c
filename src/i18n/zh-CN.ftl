# trustsync 的简体中文消息。每个 id 都必须也在 en.ftl 中，占位符相同（src/i18n/tests.rs）。
# Codes (problem codes, runtime kinds, commands, variables, paths) stay as they are.

## Verdicts

verdict-ok = 正常
verdict-drift = 偏离
verdict-broken = 损坏

## status

status-store = 操作系统信任库（{ $flavor }）：{ $count } 个 CA，来自 { $bundle }
status-store-system = 系统信任库
status-store-local = ；{ $count } 个为本机添加（{ $names }）
status-store-distrusted = ；{ $count } 个不受信任
status-store-expired = ；{ $count } 个已过期
status-warning = 警告：{ $warning }
status-store-behind = 操作系统信任库可能已过时：certifi { $version }（{ $source }）信任 { $count } 个它没有的根证书（{ $names }{ $more ->
        [yes] ，…
       *[no] {""}
    }）；请用操作系统的方式更新它：{ $update }
status-col-kind = 类型
status-col-runtime = 运行时
status-col-trusts = 信任数
status-col-verdict = 结论
status-row-fix = 修复：{ $hint }
status-summary = { $ok } 个正常，{ $drift } 个偏离，{ $broken } 个损坏
status-fix-line = 修复：{ $command }   （修复上面 { $count ->
       *[other] { $count } 个运行时
    }；先预览：`trustsync fix --dry-run`）
looked-this-user = 仅当前用户
looked-homes = 查找了 { $accounts } 的主目录（{ $homes }）；发现用时 { $millis } 毫秒
looked-walk = 遍历 { $path }，深度 { $depth }：{ $entries } 个条目，用时 { $millis } 毫秒{ $truncated ->
        [yes] （已达条目上限：更深处的 venv 未列出）
       *[no] {""}
    }

## The line under a status row that fix would not change

hint-run-as-owner = 请以该解释器所有者的身份运行 `trustsync status`
hint-variable = 把 { $variable } 指向操作系统的证书包，或取消设置（`{ $command }` 只改写 trustsync 自己设置的地方）
hint-repair = 请修复或删除此运行时；trustsync 无法看出它在哪里查找证书
hint-log-in-again = fix 已无事可做：此会话在它之前启动；请重新登录或运行 `. /etc/profile.d/trustsync.sh`（正在运行的服务需要重启）
hint-advice = fix 不会为它改动任何东西：{ $advice }
hint-nothing-to-change = fix 对它没有要改的（`trustsync fix --dry-run` 显示计划）

## Problems (diagnose)

names-some = { $names }{ $more ->
        [0] {""}
       *[other] ，另有 { $more } 个
    }
sources-builtin = { $from }（{ $count } 个 CA）
sources-path = { $path }
sources-and = { $first } 和 { $rest }
sources-none = 未配置任何 CA 文件或目录
noun-cafile = CA 文件 { $path }
noun-capath = 证书目录 { $path }
what-missing = 不存在
what-not-a-dir = 不是目录
what-not-a-file = 是目录而不是文件
what-unreadable = 无法读取：{ $error }
what-no-certificates = 不含任何证书
what-no-readable-certificate = 不含可读的证书（{ $first }）
what-unloadable = 无法被 OpenSSL 加载（{ $why }），因此其中 { $count } 个证书都不算数
problem-path = { $noun } { $what }
problem-env-var-broken = { $variable } 指向 { $path }，而它{ $what }；受影响的有 { $affects }
problem-extra-cafile-unusable = CA 文件 { $path } { $what }；它在其他来源之外额外加载，加载时出错，因此所有 TLS 连接都会失败
problem-cafile-unloadable = CA 文件 { $path } { $what }；加载时出错，因此所有 TLS 连接都会失败
problem-bad-entries-skipped = 跳过了 { $path } 中 { $count } 个无法读取的条目：{ $first }
problem-capath-empty = 证书目录 { $path } 是空的
problem-capath-no-hash-links = 证书目录 { $path } 有 { $count } 个文件，但没有 HASH.N 名称，所以 OpenSSL 一个也找不到
problem-ca-refused = { $strict ->
        [yes] 以 VERIFY_X509_STRICT 验证并拒绝
       *[no] 拒绝
    }本机添加的 CA“{ $name }”：{ $why }；必须重新签发该 CA（trustsync 无法修复）
problem-env-override = { $variables } 决定它在哪里查找证书
problem-no-trust-anchors = 不信任任何 CA：{ $sources } 没有提供任何证书，因此所有 TLS 连接都会失败；操作系统信任库有 { $count } 个 CA 它看不到
problem-os-cas-missing = 缺少操作系统信任库 { $total } 个 CA 中的 { $count } 个{ $local ->
        [0] {""}
       *[other] ，其中包括 { $local } 个本机添加的（{ $names }）
    }；它读取 { $sources }
problem-compiled-cas-not-in-os-store = { $from } 有 { $count } 个操作系统信任库没有的 CA（另一份 Mozilla 快照；不妨碍它信任操作系统信任的 CA）：{ $names }
problem-distrusted-ca-trusted = 信任 { $count } 个操作系统不信任的 CA：{ $names }
problem-ca-not-in-os-store = 信任 { $count } 个操作系统信任库没有的 CA（已从 Mozilla 列表移除但旧证书包仍保留的根证书，或操作系统信任库尚未收录的新根证书）：{ $names }
problem-ca-not-in-os-store-old = 信任 { $count } 个操作系统信任库没有、本机也没有更新的证书包收录的 CA（已从 Mozilla 列表移除但旧证书包仍保留的根证书）：{ $names }
problem-ca-newer-than-os-store = 还信任 { $count } 个比操作系统信任库更新的根证书（{ $source } 也有）：{ $names }；落后的是信任库，不是此运行时
problem-expired-cas = 含有 { $count } 个已过期的 CA（保留无害，但说明证书包陈旧）：{ $names }
problem-fixed-for-new-shells = { $snippet } 为新的登录 shell 设置 ${ $variable }；当前 shell 在此之前启动：请运行 `. { $snippet }` 或重新登录
problem-fixed-for-new-windows = { $key }\{ $variable } 对今后启动的程序指向 { $bundle }；此程序在 `trustsync fix` 之前启动：请打开新窗口

## fix: the plan, and what a run did

plan-nothing-to-do = 无事可做：一切都已就绪。
plan-changes = { $count } 项更改：
plan-changes-made = 已应用。完成 { $count } 项更改：
plan-why = 原因：{ $reason }
plan-create-dir = 创建目录 { $target }（权限 { $mode }）
plan-write-file = { $replace ->
        [yes] 替换
       *[no] 创建
    }文件 { $target }（权限 { $mode }，{ $bytes } 字节{ $bundle ->
        [yes] ，{ $certs } 个证书
       *[no] {""}
    }）
plan-symlink = 链接 { $target } -> { $link }
plan-keystore-add = 向 Java 密钥库 { $target } 添加 { $count } 个 CA 条目（别名 trustsync-…）
plan-block-add = 向 { $target } 添加块 { $block }（{ $count } 个证书）
plan-keystore-remove = 从 Java 密钥库 { $target } 删除 trustsync 的 CA 条目
plan-block-remove = 从 { $target } 删除块 { $block }
plan-remove = 删除 { $target }（由 trustsync 创建）
plan-win-write-file = { $replace ->
        [yes] 替换
       *[no] 创建
    }文件 { $target }（{ $bytes } 字节，{ $certs } 个证书）
plan-win-set-var = 设置 { $variable } = { $value }
fix-dry-run-note = （演练：没有任何改动；`{ $command }` 会完全照此执行）
fix-undo-with = 用 `{ $command }` 撤销。
fix-variables-reach = 这些变量可到达 { $reached }；在当前 shell 中：`. { $snippet }`。
fix-variables-not-reached = { $count ->
        [0] 无法到达：以空环境启动的程序（root 可写的证书包改为直接修补：默认策略）。
       *[other] 此处无法到达：{ $not }，以及以空环境启动的程序（root 可写的证书包改为直接修补：默认策略）。
    }
fix-windows-new-window = 今后启动的程序能看到这些变量；此窗口和已在运行的程序看不到：请打开新窗口。
fix-advice-heading = trustsync 未更改的内容（由你决定）：

## undo

undo-restored = 已恢复 { $path }
undo-removed = 已删除 { $path }
undo-kept = 已保留 { $path }（非空：有人添加了文件）
undo-block-gone = 注意   { $path }：trustsync 的块已不存在
undo-nothing = 没有可撤销的内容。

## list

list-col-expires = 到期
list-col-flags = 标记
list-col-ca = CA
list-flag-local = 本机
list-flag-distrusted = 不受信任
list-flag-expired = 已过期
list-summary = 操作系统信任库（{ $flavor }）中 { $total } 个 CA 的 { $shown } 个

## probe

probe-of = 探测
probe-header = { $probe_of } { $host }（名称 { $name }，对端 { $peer }{ $proxy }{ $protocol }）
probe-header-proxy = ，经由代理 { $proxy }
probe-header-protocol = ，{ $protocol }
probe-header-saved = { $probe_of } { $name }（已保存的证书链）
probe-checked-at = 检查时间 { $time }
probe-chain-heading = 服务器发送的证书链（{ $count ->
       *[other] { $count } 个证书
    }）：
probe-unreadable-certificate = 无法读取的证书：{ $error }
probe-self-signed-tag = 自签名
probe-issued-by = 颁发者 { $issuer }
probe-expired-tag = 已过期
probe-not-yet-valid-tag = 尚未生效
probe-chain-state = ，{ $state }
probe-chain-line = { $subject }（{ $by }；有效期至 { $until }{ $state }）
probe-field-issuer = 颁发者
probe-field-valid = 有效期
probe-field-names = 名称
probe-issuer-at = 颁发者证书位于：{ $url }
probe-outcome-heading = 各信任集的结果：
probe-verification-heading = 各信任集的验证：
probe-no-trust-sets = （未给出信任集）
probe-group = { $verified ->
        [yes] 验证通过
       *[no] 验证失败
    }，共 { $count ->
       *[other] { $count } 个信任集
    }：{ $who } — { $reason }
probe-each-of-them = 它们每一个
probe-next-step = 下一步：{ $step }
probe-see-verbose = 查看每个信任集各自的结论：trustsync probe -v …
probe-notes-heading = 备注：
probe-result-ok = 结果：在所有信任集中都验证通过。
probe-result-fail = 结果：{ $overall }（{ $total } 个信任集中 { $failing } 个失败）。
probe-reason-anchored = 锚定于“{ $root }”
probe-reason-lack = 它们缺少“{ $name }”
probe-reason-nobody-has = 没有任何信任集有“{ $name }”，服务器也未发送它
probe-reason-valid = “{ $name }”的有效期为 { $from } .. { $until }
probe-reason-name = 证书中没有名称“{ $name }”
probe-verifies-to-root = 可验证到受信任的根证书“{ $root }”。
probe-untrusted-root = 证书链通向根 CA“{ $root }”，而 { $set } 不信任它。
probe-unknown-issuer = 证书链通向“{ $issuer }”，而 { $set } 不信任它；服务器没有发送它，本机也没有任何信任集有它（未知的根 CA，或服务器遗漏的中间证书）。
probe-incomplete-chain = 证书链不完整：服务器发送了“{ $sent }”，但没有发送其颁发者“{ $issuer }”，这是本机任何信任集都没有的中间证书。它发布于 { $urls }。
probe-self-signed = 服务器证书“{ $name }”是自签名的（它是自己的颁发者），而 { $set } 不信任它。
probe-not-yet-valid = { $leaf ->
        [yes] 服务器证书
       *[no] CA 证书
    }“{ $name }”尚未生效：有效期从 { $from } 到 { $until }，而本机现在是 { $now }。
probe-expired = { $leaf ->
        [yes] 服务器证书
       *[no] CA 证书
    }“{ $name }”已于 { $until } 过期（生效于 { $from }）；本机现在是 { $now }。
probe-step-check-service = 请确认 HOST:PORT 是你要连接的 TLS 服务。
probe-step-inspection = 如果这是你所在组织的 TLS 检查代理，请向其管理员索取根 CA 证书，与他们核对 SHA-256 指纹，把它添加到操作系统信任库，然后运行 `sudo trustsync fix`。不要关闭证书验证。
probe-step-hostname = 请使用证书涵盖的名称连接，或请服务器运维人员把“{ $name }”加入证书。（代理或负载均衡器替其他站点应答也会导致这种情况。）
probe-step-fix-chain = 服务器运维人员必须修复其证书链。
probe-step-check-clock = 请先检查本机时钟：它显示 { $now }，超出了证书链中大多数证书的有效期。
probe-step-renew = 服务器运维人员必须续期证书（或安装当前的中间证书）；本机上没有安全的修复办法。
probe-step-not-yet-valid = 如果本机时钟正确，说明服务器安装了尚未生效的证书；其运维人员必须修正。
probe-step-self-signed-os-trusts = { $os } 信任此证书：运行 `sudo trustsync fix`，让 { $set } 也信任它。
probe-step-self-signed = 如果这是你自己的服务器，请给它换一张来自你信任的 CA 的证书。若只想信任这一张证书，请与服务器运维人员核对其 SHA-256（{ $sha256 }），把它添加到操作系统信任库，然后运行 `sudo trustsync fix`。
probe-step-send-full-chain = 服务器运维人员必须发送完整的证书链：“{ $sent }”之后是中间证书“{ $issuer }”（下载：{ $urls }）。浏览器会自行获取中间证书从而掩盖这个问题；OpenSSL、Python 和 curl 不会。
probe-step-run-fix = 运行 `sudo trustsync fix`：它让 { $set } 信任 { $os } 所信任的。
probe-step-trusted-elsewhere = “{ $name }”受 { $by } 信任，但不受 { $os } 信任；trustsync 只从操作系统信任库复制信任。如果你信任此 CA，请把它添加到操作系统信任库，然后运行 `sudo trustsync fix`。
probe-step-private-ca = 本机没有任何信任集信任“{ $name }”。如果它是你信任的私有 CA，请把它添加到操作系统信任库，然后运行 `sudo trustsync fix`。

## The one-line errors on stderr (the error document's `message` is their English text)

error-runtime-not-found = --runtime { $path }：没有这个文件或目录
error-not-a-runtime = --runtime { $path }：不是 trustsync 认识的解释器、venv、openssl 程序或 CA 证书包
error-store-unreadable = 无法读取操作系统信任库：{ $error }
error-internal = 内部错误：{ $what }
error-undo-unavailable = 此操作系统暂不支持 undo
error-fix-unavailable = 此操作系统暂不支持 fix
error-hooks-windows = 钩子用于 Linux 和 macOS 的包管理器；在 Windows 上请定时运行 `trustsync fix --yes`
error-fix-option-windows = fix：{ $flag } 在 Windows 上不可用（在那里，fix 写入一个托管证书包并设置运行时读取的变量）
error-hook-needs-root = hook { $what } 要写入系统文件，需要 root：sudo trustsync hook { $what }
error-hook-binary-unknown = hook install：无法确定 trustsync 的位置：{ $error }
fix-hooks-refreshed = 钩子已更新（{ $count } 个文件）；参见 `trustsync hook status`
fix-hooks-not-refreshed = fix：钩子未能更新：{ $error }；请运行 `sudo trustsync hook install`
fix-not-applied-no-terminal = 未应用：没有可供确认的终端时，请加 --yes 直接应用
fix-prompt = 要应用这 { $count } 项更改吗？[y/N]
fix-nothing-changed = 没有做任何更改

## add / remove

manage-the-os-store = 操作系统信任库
manage-added = 已添加 { $subject }（SHA-256 { $short }…）到 { $at }
manage-present = 已存在 { $subject }（SHA-256 { $short }…）本来就在 { $at } 中
manage-removed = 已删除 { $subject }（SHA-256 { $short }…），自 { $at }
manage-kept = 已保留 { $subject }（SHA-256 { $short }…）：它经由非 trustsync 添加的途径受信任
manage-already-trusted = 已信任 { $subject }（SHA-256 { $short }…）已受操作系统信任库信任；无事可做
manage-ran = 已运行 { $command }{ $has_said ->
        [no] {""}
       *[yes] ：{ $said }
    }
manage-not-present = 操作系统信任库不信任 SHA-256 { $sha256 }；没有可删除的。
note-line = 注意：{ $note }
manage-next = 下一步：{ $step }。
manage-next-step = 自带 CA 证书包的运行时还看不到这项更改：请运行 `sudo trustsync fix`（先用 `trustsync fix --dry-run` 预览）
manage-next-step-windows = 自带 CA 证书包的运行时还看不到这项更改：`trustsync status` 会列出它们
manage-take-out = 要再次删除它：`{ $sudo }trustsync remove { $sha256 }`。
manage-error = { $command } { $refused ->
        [yes] 被拒绝
       *[no] 失败
    }：{ $error }

## fix: advice (what trustsync leaves to the user)

advice-profile-not-read = macOS 的 shell 不读取 /etc/profile.d：请把 `. { $snippet }` 加入 /etc/zshrc（以及 /etc/bashrc），或为图形界面程序用 `launchctl setenv` 设置这些变量
advice-sudo-env-file-set = 已有 sudoers 文件设置了 env_file，因此 trustsync 不再添加：请把 { $file } 中的变量加入那个文件，`sudo` 才会传递它们
advice-etc-environment-not-changed = { $file } 属于操作系统，trustsync 不改动它：如需让 su、login、ssh 和 cron（pam_env）获得这些变量，请加 `--etc-environment` 重新运行
advice-pam-environment-odd = { $file } 不是普通文件，trustsync 不改动它；sudo、su 和 cron 将得不到这些变量
advice-cannot-see-runtime = trustsync 无法判断此运行时在哪里查找证书（{ $why }）；没有为它做任何更改
advice-curl-ca-bundle-empty = 它什么都不验证，因为 $CURL_CA_BUNDLE 已设置但为空{ $origin }：请取消设置（trustsync 不改动不是它设置的变量）
advice-verification-off = { $said }：请删除该设置（trustsync 不编辑不是它写入的配置）
advice-config-set-elsewhere = { $origin } 决定它在哪里查找证书；请把它指向 { $bundle }，或删除该设置（trustsync 不编辑不是它写入的配置）
advice-variable-set-elsewhere = ${ $variable } 是在 trustsync 之外设置的{ $origin }；请把它指向 { $bundle }（或在 `sudo trustsync fix` 之后指向 { $managed }），或取消设置
advice-variables-decide = { $variables } 决定它在哪里查找证书，且是在 trustsync 之外设置的；请修正该变量（见它自己的那一行），而不是修正此运行时
advice-reported-by-user = 它的查找位置由属于 uid { $uid } 的程序报告；以 root 身份运行时，trustsync 不会写入其他用户的程序所指的位置。该用户可以自己运行 `trustsync fix`，或把此运行时指向 { $bundle }
advice-extra-cas-kept-bundle = 它信任操作系统不信任的 CA；trustsync 只撤回它自己添加的。{ $target } 只含操作系统的 CA：把此运行时指向它即可去掉其余的
advice-extra-cas-kept-dir = 它信任操作系统不信任的 CA；trustsync 只撤回它自己创建的条目：请从其文件中删除其他条目，或接受它们
advice-no-variable = 此软件包没有可以让它改用其他证书包的变量，而 root 也不会写入它的文件（其他用户的目录，或链接）：请配置该应用程序，或以文件所有者身份运行 `trustsync fix`
advice-not-a-file = { $target } 不是普通文件；未修补
advice-no-capath = 此运行时不读取任何证书目录；请把 SSL_CERT_FILE 指向操作系统的证书包

## Runtime families: what discovery found

note-not-executed = 未以 root 身份运行，因为{ $reason }
note-npm-strict-ssl-off = { $at } 中有 strict-ssl=false：npm 接受任何证书
note-node-probe-failed = 无法询问它的构建方式：{ $error }
note-node-options-refused = $NODE_OPTIONS 含有 --use-system-ca，而 node { $version } 不认识它：它拒绝启动（"bad option"）；该选项需要 v22.15 或 v23.9 及以上
note-node-roots-unknown = node { $version } 早于 12.3，无法列出其内置的根证书
note-node-extra-ca-missing = $NODE_EXTRA_CA_CERTS 指向 { $file }，它不是可读的文件：node 会发出警告并在没有它的情况下启动
note-client-verification-off = { $at }：{ $client } 接受任何证书
note-client-cafile-unreadable = { $at } 中设置的 cafile { $file } 无法读取：{ $client } 会发出警告并改用 node 自带的根证书
note-java-foreign-store-type = ${ $variable } 设置了 javax.net.ssl.trustStoreType={ $store_type }，这种信任库只有 { $os } 才有：JSSE 在这里无法加载其信任库，因此每个连接都会失败
note-java-keychain-partial = KeychainStore 只包含你的钥匙串明确信任的证书；系统根证书需要 KeychainStore-ROOT（JDK 23+）
advice-client-refused-setting = { $said }：请重命名该设置（改为 httpsCaFilePath，指向 { $bundle }）或删除它（trustsync 不编辑不是它写的配置）
note-java-store-missing = ${ $variable } 指向信任库 { $path }，它不是文件：JSSE 改用 { $default }
note-pip-trusted-host = pip 不检查 { $hosts } 的任何证书（{ $origin } 中的 `trusted-host`）：路径上的任何人都能冒充它们；待 pip 信任该 CA 后请删除此设置
note-truststore-fallback = OpenSSL 的默认路径中什么也没有，因此 truststore 退而使用 { $path }
note-probe-failed = 无法询问它在哪里查找证书：{ $error }
note-no-ssl-module = 此 Python 没有可用的 ssl 模块（{ $error }）：它根本无法验证 TLS
note-truststore-injected = { $by } 注入了 truststore：`ssl` 和 requests 通过它验证
note-unverified-context = { $by } 把 ssl._create_default_https_context 设为不验证的版本：urllib.request 和 http.client 接受任何证书；待该 CA 受信任后请删除那一行
note-pythonhttpsverify = PYTHONHTTPSVERIFY=0，且此 Python 遵从它（PEP 493，RHEL 的补丁）：urllib.request 和 http.client 接受任何证书；待该 CA 受信任后请取消设置
note-certifi-missing = 已安装 requests 但未安装 certifi：在安装之前 requests 什么都无法验证
note-requests-curl-empty = requests { $version } 把 CURL_CA_BUNDLE=""（已设置但为空）当作 `verify=False`：所有 HTTPS 连接都不检查服务器就被接受；请取消设置该变量（或把 requests 升级到 2.28 及以上）
note-not-executed-user = 未以 root 身份运行，因为{ $reason }；请以该用户身份运行 `trustsync status` 来检查它
note-no-openssldir = `openssl version -d` 没有输出 OPENSSLDIR
note-empty-variable = ${ $variable } 已设置但为空：OpenSSL 因此不读取任何内容，而不是 { $default }

## The OS store's warnings

warning-clock = 时钟似乎不对：它显示 { $date }，而此时操作系统信任库 { $total } 个 CA 中有 { $expired } 个已过期、{ $future } 个尚未生效；在时间校正之前所有 TLS 连接都会失败（请检查 `timedatectl` 或宿主机的时间）
warning-local-ca-refused = 本机添加的 CA“{ $name }”：所有 OpenSSL 客户端（Python、requests、pip、curl）都拒绝它：{ $why }；必须重新签发
warning-local-ca-strict = 本机添加的 CA“{ $name }”：Python 3.13+（`ssl`，以及使用 urllib3 2.3+ 的 requests）在 VERIFY_X509_STRICT 下拒绝它：{ $why }；较旧的客户端和 pip 接受它；请重新签发，以免升级 Python 后失效
warning-local-ca-expired = 本机添加的 CA“{ $name }”已于 { $date } 过期：任何客户端都不接受它签发的证书
warning-local-ca-not-yet = 本机添加的 CA“{ $name }”在 { $date } 之前无效

## probe: notes on the whole chain

probe-note-unusable-roots = 有些受信任的证书无法用作根证书，已跳过：{ $sets }
probe-name-no-host = 该证书没有列出任何主机名（没有使用者可选名称；TLS 库忽略使用者 CN“{ $cn }”），因此无法匹配“{ $name }”。
probe-name-mismatch = 该证书用于 { $names }，但请求的名称是“{ $name }”。
probe-reasons-and = { $first }；{ $rest }
probe-note-inspection = 这里没有任何信任集信任“{ $name }”（{ $reasons }）：看起来是 TLS 检查代理（企业防火墙、杀毒软件、调试代理）在重新签发连接的证书，或是私有 CA。
probe-reason-product = 它的名称包含“{ $product }”
probe-reason-not-public = 它不是知名的公共 CA
probe-reason-proxy = 正在使用代理（HTTPS_PROXY 或 --proxy）
probe-note-clock = 本机时钟显示 { $now }，超出了所见大多数证书的有效期：在归咎于服务器之前，请先检查时钟（日期、时区和 NTP）。

## hook

hook-last-ran = 上次运行于 { $time }（{ $outcome }）：{ $message }
hook-not-run-yet = 尚未运行过
hook-changed-not-run = 它监视的内容在 { $time } 发生了变化，此后它还没有运行
hook-none-installed = 没有安装任何钩子
hook-dry-run-note = （演练：没有任何改动）

## undo: its one-line errors

error-undo-needs-admin = undo：trustsync fix 在这里是以管理员身份运行的；请在提升权限的命令提示符中运行 `trustsync undo`
error-undo-store-not-rebuilt = undo：操作系统信任库未重建：{ $error }
error-undo-root-windows = undo：--root 在 Windows 上不可用

## fix on Windows: advice

advice-win-variable-set-elsewhere = ${ $variable } 是在 trustsync 之外设置的（位于 { $place }），值为 { $value }；trustsync 不改动它：{ $managed ->
        [yes] 请把它指向 { $bundle } 或删除它，然后再次运行 `trustsync fix`
       *[no] 请删除它，或把它指向操作系统信任库信任的证书
    }
advice-win-curl-ca-bundle-empty = 它什么都不验证，因为 CURL_CA_BUNDLE 已设置但为空：请取消设置（trustsync 不改动不是它设置的变量）
advice-win-config-set-elsewhere = { $origin } 决定它在哪里查找证书；请把它指向包含操作系统信任库 CA 的证书包，或删除该设置（trustsync 不编辑不是它写入的配置）
advice-win-java-store = 此 JDK 只信任它自己的信任库 { $store }：请让它使用 Windows 信任库（在 JAVA_TOOL_OPTIONS 或应用程序选项中加 `-Djavax.net.ssl.trustStoreType=Windows-ROOT`），或用该 JDK 的 keytool 添加此 CA
advice-win-no-variable = 此软件包没有可以让它改用其他证书包的变量（而 `--strategy patch-bundle` 在 Windows 上不可用）；请配置该应用程序使用托管证书包

## fix: the JDKs' truststores

advice-java-no-store = trustsync 没有找到此 JDK 的信任库
advice-java-store-chosen = ${ $variable } 指定了它的信任库 { $store }（`-Djavax.net.ssl.trustStore`），trustsync 不推翻这个选择：请以该文件所有者身份用 keytool 把 CA 加进去，或在 { $debian } 存在时把该属性指向它
advice-java-store-configured = { $setting } 指定了它的信任库 { $store }，trustsync 不推翻这个选择：请以该文件所有者身份用 keytool 把 CA 加进去，或在 { $debian } 存在时把该设置指向它
advice-java-debian-store = { $store } 是 Debian 的 Java 信任库，由 ca-certificates-java 根据操作系统信任库重建；它还没有收录此 CA：请运行 `update-ca-certificates --fresh`（或 `dpkg-reconfigure ca-certificates-java`）
advice-java-store-link = { $store } 是指向 { $resolved } 的链接；trustsync 不通过链接写入：请以该文件所有者身份用 keytool 把 CA 加入该文件（`keytool -importcert -keystore FILE -alias trustsync-<sha256> -file CA.pem`）
advice-java-owner = { $why }；该 JDK 的所有者可以运行 `trustsync fix`，或用该 JDK 的 keytool 添加 CA：`keytool -importcert -keystore { $store } -storepass changeit -alias trustsync-<sha256> -file CA.pem`，或在该文件存在时把 JAVA_TOOL_OPTIONS 指向 `-Djavax.net.ssl.trustStore={ $debian }`
advice-java-env-strategy = --strategy env 设置的是变量，而没有哪个所有 JVM 都读取的变量能向 { $store } 添加 CA

## 每项计划改动的原因（计划里的"原因："一行；JSON 保留英文）。
reason-hash-link = OpenSSL 按主题哈希在 { $dir } 中查找 CA；{ $name } 提供 { $source }
reason-hash-unlink = 操作系统信任库不再提供 trustsync 以 { $name } 链接的 CA
reason-withdraw-block = 操作系统不再信任 trustsync 加入 { $runtime } 的内容；撤回它的标记块
reason-append-block = { $runtime } 缺少 { $count } 个操作系统 CA；以标记块的形式加入（`sudo trustsync undo` 会删除它）
reason-withdraw-entries = 操作系统不再信任 trustsync 加入 { $runtime } 的内容；撤回它的条目
reason-append-entries = { $runtime } 缺少 { $count } 个操作系统 CA；以 trustsync-… 条目加入其信任库（`sudo trustsync undo` 会删除它们）
reason-cafile-link = { $runtime } 读取的这个 CA 文件不存在；把它链接到操作系统的证书包
reason-dir-certs = 该运行时的证书目录需要它
reason-dir-cafile = 该运行时的 CA 文件位于此处
reason-dir-managed = trustsync 在此存放它管理的文件
reason-dir-profile = profile 片段所在目录
reason-dir-environment-d = systemd 从这里读取 environment.d
reason-dir-systemd = systemd 从这里读取管理器的补充配置
reason-managed-cert = 操作系统信任库没有单独存放此 CA 的文件；哈希目录需要一个
reason-managed-bundle = 把操作系统信任库合成一个 PEM 文件，供读取自带证书包的运行时使用
reason-profile-snippet = 登录 shell 会把读取证书包的运行时指向操作系统的证书包
reason-environment-d = systemd 用户会话及其服务获得同样的变量
reason-systemd-system = 系统服务（在 `systemctl daemon-reexec` 或重启之后）获得同样的变量
reason-sudoers = sudo 和 `sudo -u`（env_reset，没有 pam_env）获得同样的变量
reason-pam-environment = sudo、su、login、ssh 会话和 cron 任务（pam_env）获得同样的变量
reason-hook-file = { $hook } 钩子
reason-hook-unit-dir = systemd 的单元目录
reason-hook-enable = 启用 { $hook } 钩子
reason-hook-remove = { $hook } 钩子
reason-managed-bundle-follows = trustsync 的证书包跟随操作系统信任库
reason-windows-variable = { $scope ->
        [machine] 每个用户新启动的进程
       *[user] 此用户新启动的进程
    }读取 ${ $variable } 并找到受管理的证书包
