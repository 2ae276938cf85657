<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US" sourcelanguage="ja_JP">
<context>
    <name>ConnectionBanner</name>
    <message>
        <location filename="../status_banner.py" line="98"/>
        <source>未送信 {count}件 {total}</source>
        <translation>{count} unsent, {total}</translation>
    </message>
    <message>
        <location filename="../status_banner.py" line="102"/>
        <source>オフライン&#x3000;{waiting}
お支払いは端末に安全に保存されています。つながると自動で送信します</source>
        <translation>Offline: {waiting}
Payments are kept safely on the terminal and are sent automatically when the connection returns</translation>
    </message>
    <message>
        <location filename="../status_banner.py" line="106"/>
        <source>オンライン</source>
        <translation>Online</translation>
    </message>
    <message>
        <location filename="../status_banner.py" line="111"/>
        <source>サーバーに接続しています…</source>
        <translation>Connecting to the server…</translation>
    </message>
    <message>
        <location filename="../status_banner.py" line="122"/>
        <source>送信中 {sent}/{total}</source>
        <translation>Sending {sent}/{total}</translation>
    </message>
    <message>
        <location filename="../status_banner.py" line="130"/>
        <source>送信しました</source>
        <translation>All sent</translation>
    </message>
    <message>
        <location filename="../status_banner.py" line="138"/>
        <source>受け付けられなかった取引 {count}件</source>
        <translation>Refused transactions: {count}</translation>
    </message>
</context>
<context>
    <name>CpmScreen</name>
    <message>
        <location filename="../cpm.py" line="25"/>
        <source>お客様のコードをスキャナーで読み取ってください</source>
        <translation>Scan the customer&apos;s code with the scanner</translation>
    </message>
    <message>
        <location filename="../cpm.py" line="34"/>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <location filename="../cpm.py" line="37"/>
        <source>再送</source>
        <translation>Resend</translation>
    </message>
    <message>
        <location filename="../cpm.py" line="68"/>
        <source>確認しています…</source>
        <translation>Checking…</translation>
    </message>
</context>
<context>
    <name>DeclinedScreen</name>
    <message>
        <location filename="../declined.py" line="75"/>
        <source>サーバーが受け付けなかった取引</source>
        <translation>Transactions the server did not accept</translation>
    </message>
    <message>
        <location filename="../declined.py" line="85"/>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <location filename="../declined.py" line="102"/>
        <source>読み込んでいます…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../declined.py" line="112"/>
        <source>これらの取引は売上・返金に反映されていません。選ぶと詳しい説明が出ます</source>
        <translation>These transactions are not in the sales or refunds. Choose one to see what it means</translation>
    </message>
    <message>
        <location filename="../declined.py" line="115"/>
        <source>受け付けられなかった取引はありません</source>
        <translation>No transactions were refused</translation>
    </message>
    <message>
        <location filename="../declined.py" line="123"/>
        <source>取引番号 {capture_id}</source>
        <translation>Transaction number {capture_id}</translation>
    </message>
    <message>
        <location filename="../declined.py" line="130"/>
        <source>理由: お客様のオフラインで使える金額を超えていました</source>
        <translation>Reason: over the customer&apos;s offline allowance</translation>
    </message>
    <message>
        <location filename="../declined.py" line="133"/>
        <source>理由: オフライン支払いコードをサーバーが確認できませんでした</source>
        <translation>Reason: the server could not verify the offline code</translation>
    </message>
    <message>
        <location filename="../declined.py" line="135"/>
        <source>理由: お客様のウォレットが停止されていました</source>
        <translation>Reason: the customer&apos;s wallet was blocked</translation>
    </message>
    <message>
        <location filename="../declined.py" line="137"/>
        <source>理由: 返金額が元の取引の残りを超えていました</source>
        <translation>Reason: the refund was more than what was left of the payment</translation>
    </message>
    <message>
        <location filename="../declined.py" line="139"/>
        <source>理由: 元の取引がサーバーに見つかりませんでした</source>
        <translation>Reason: the server did not find the original transaction</translation>
    </message>
    <message>
        <location filename="../declined.py" line="140"/>
        <source>理由: 金額がサーバーの記録と違っていました</source>
        <translation>Reason: the amount differs from the server&apos;s record</translation>
    </message>
    <message>
        <location filename="../declined.py" line="144"/>
        <source>理由: その他（{code}）</source>
        <translation>Reason: other ({code})</translation>
    </message>
    <message>
        <location filename="../declined.py" line="148"/>
        <source>返金</source>
        <translation>Refund</translation>
    </message>
    <message>
        <location filename="../declined.py" line="150"/>
        <source>オフライン支払い</source>
        <translation>Offline payment</translation>
    </message>
    <message>
        <location filename="../declined.py" line="151"/>
        <source>支払い</source>
        <translation>Payment</translation>
    </message>
</context>
<context>
    <name>HistoryScreen</name>
    <message>
        <location filename="../history.py" line="201"/>
        <source>取引履歴</source>
        <translation>Transaction history</translation>
    </message>
    <message>
        <location filename="../history.py" line="209"/>
        <source>返金</source>
        <translation>Refund</translation>
    </message>
    <message>
        <location filename="../history.py" line="212"/>
        <source>更新</source>
        <translation>Reload</translation>
    </message>
    <message>
        <location filename="../history.py" line="214"/>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <location filename="../history.py" line="217"/>
        <source>受け付けられなかった取引</source>
        <translation>Refused transactions</translation>
    </message>
    <message>
        <location filename="../history.py" line="232"/>
        <source>読み込んでいます…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../history.py" line="241"/>
        <source>まだ取引がありません</source>
        <translation>No transactions yet</translation>
    </message>
    <message>
        <location filename="../history.py" line="248"/>
        <source>QR</source>
        <translation>QR</translation>
    </message>
    <message>
        <location filename="../history.py" line="250"/>
        <source>コード（オフライン）</source>
        <translation>Code (offline)</translation>
    </message>
    <message>
        <location filename="../history.py" line="252"/>
        <source>コード</source>
        <translation>Code</translation>
    </message>
    <message>
        <location filename="../history.py" line="255"/>
        <source>返金済み</source>
        <translation>Refunded</translation>
    </message>
    <message>
        <location filename="../history.py" line="257"/>
        <source>一部返金 {amount}</source>
        <translation>Partly refunded {amount}</translation>
    </message>
    <message>
        <location filename="../history.py" line="260"/>
        <source>返金 {amount} 送信待ち</source>
        <translation>Refund {amount} waiting to be sent</translation>
    </message>
</context>
<context>
    <name>Keypad</name>
    <message>
        <location filename="../widgets.py" line="74"/>
        <source>C（クリア）</source>
        <translation>C (Clear)</translation>
    </message>
</context>
<context>
    <name>MpmScreen</name>
    <message>
        <location filename="../mpm.py" line="19"/>
        <source>スマートフォンでQRコードを読み取ってください</source>
        <translation>Scan this QR code with your smartphone</translation>
    </message>
    <message>
        <location filename="../mpm.py" line="32"/>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../mpm.py" line="56"/>
        <source>QRコードを準備しています…</source>
        <translation>Preparing the QR code…</translation>
    </message>
    <message>
        <location filename="../mpm.py" line="65"/>
        <source>取り消しています…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <location filename="../mpm.py" line="75"/>
        <source>有効期限まで {minutes}:{seconds}</source>
        <translation>Expires in {minutes}:{seconds}</translation>
    </message>
</context>
<context>
    <name>PhoneWindow</name>
    <message>
        <location filename="../phone.py" line="69"/>
        <source>お客様のスマートフォン（デモ）</source>
        <translation>Customer&apos;s smartphone (demo)</translation>
    </message>
    <message>
        <location filename="../phone.py" line="88"/>
        <source>QRを読み取る</source>
        <translation>Scan QR</translation>
    </message>
    <message>
        <location filename="../phone.py" line="90"/>
        <source>支払いコードを表示</source>
        <translation>Show payment code</translation>
    </message>
    <message>
        <location filename="../phone.py" line="92"/>
        <source>オフライン用コードを表示</source>
        <translation>Show offline code</translation>
    </message>
    <message>
        <location filename="../phone.py" line="95"/>
        <source>スキャナーで読み取る</source>
        <translation>Read with scanner</translation>
    </message>
    <message>
        <location filename="../phone.py" line="102"/>
        <source>残高</source>
        <translation>Balance</translation>
    </message>
    <message>
        <location filename="../phone.py" line="128"/>
        <source>QRコードを読み取っています…</source>
        <translation>Reading the QR code…</translation>
    </message>
    <message>
        <location filename="../phone.py" line="138"/>
        <source>{amount} を支払いました</source>
        <translation>Paid {amount}</translation>
    </message>
    <message>
        <location filename="../phone.py" line="153"/>
        <source>お店の人にコードを読み取ってもらってください</source>
        <translation>Ask the shop to scan this code</translation>
    </message>
    <message>
        <location filename="../phone.py" line="168"/>
        <source>オフライン用コードを準備しています…</source>
        <translation>Preparing the offline code…</translation>
    </message>
    <message>
        <location filename="../phone.py" line="191"/>
        <source>オフライン用コード（{length}文字）</source>
        <translation>Offline code ({length} characters)</translation>
    </message>
    <message>
        <location filename="../phone.py" line="196"/>
        <source>お店の人に読み取ってもらってください（オフライン用）</source>
        <translation>Ask the shop to scan it (offline code)</translation>
    </message>
    <message>
        <location filename="../phone.py" line="214"/>
        <source>QRコードが見つかりません。端末にQRコードを表示してください</source>
        <translation>No QR code found. Show the QR code on the terminal</translation>
    </message>
    <message>
        <location filename="../phone.py" line="216"/>
        <source>お支払いできませんでした（{reason}）</source>
        <translation>Payment failed ({reason})</translation>
    </message>
    <message>
        <location filename="../phone.py" line="219"/>
        <source>サーバーに接続できませんでした</source>
        <translation>Could not connect to the server</translation>
    </message>
    <message>
        <location filename="../phone.py" line="222"/>
        <source>エラーが発生しました</source>
        <translation>An error occurred</translation>
    </message>
</context>
<context>
    <name>PinPad</name>
    <message>
        <location filename="../widgets.py" line="97"/>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="100"/>
        <source>やめる</source>
        <translation>Stop</translation>
    </message>
</context>
<context>
    <name>PinScreen</name>
    <message>
        <location filename="../refund.py" line="29"/>
        <source>返金には責任者の暗証番号が必要です</source>
        <translation>A refund needs the manager&apos;s PIN</translation>
    </message>
    <message>
        <location filename="../refund.py" line="30"/>
        <location filename="../refund.py" line="40"/>
        <source>暗証番号を入力して「OK」を押してください</source>
        <translation>Enter the PIN and press OK</translation>
    </message>
    <message>
        <location filename="../refund.py" line="43"/>
        <source>暗証番号が違います。もう一度入力してください</source>
        <translation>Wrong PIN. Enter it again</translation>
    </message>
</context>
<context>
    <name>Printing</name>
    <message>
        <location filename="../printing.py" line="49"/>
        <source>レシートを印刷できませんでした。プリンターの電源・用紙・ケーブルを確認して「再印刷」を押してください。お支払いは完了しています。</source>
        <translation>The receipt did not print. Check the printer&apos;s power, paper and cable, then press Reprint. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="55"/>
        <source>プリンターの設定に問題があり、レシートを印刷できませんでした。お支払いは完了しています。技術担当者に連絡してください。</source>
        <translation>The receipt did not print because of a printer setting. The payment is complete. Contact a technician.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="61"/>
        <source>レシートを作れませんでした。お支払いは完了しています。「再印刷」で直らない場合は技術担当者に連絡してください。</source>
        <translation>The receipt could not be made. The payment is complete. If Reprint does not help, contact a technician.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="67"/>
        <source>レシートを印刷できませんでした。お支払いは完了しています。「再印刷」を押してください。</source>
        <translation>The receipt did not print. The payment is complete. Press Reprint.</translation>
    </message>
</context>
<context>
    <name>ReceiptPreview</name>
    <message>
        <location filename="../receipt_preview.py" line="48"/>
        <source>レシート（プリンターエミュレーター）</source>
        <translation>Receipts (printer emulator)</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="50"/>
        <source>印刷されたレシート</source>
        <translation>Printed receipts</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="51"/>
        <source>まだ印刷されていません</source>
        <translation>Nothing printed yet</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="57"/>
        <location filename="../receipt_preview.py" line="99"/>
        <source>オフラインにする</source>
        <translation>Go offline</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="85"/>
        <source>デモ情報: 返金に使う責任者暗証番号は {pin} です</source>
        <translation>Demo information: the manager PIN for refunds is {pin}</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="102"/>
        <source>オンラインに戻す</source>
        <translation>Go back online</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="104"/>
        <source>デモ: 端末はサーバーから切り離されています（スマートフォンはつながっています）</source>
        <translation>Demo: the terminal is cut off from the server (the phone is still connected)</translation>
    </message>
</context>
<context>
    <name>RefundAmountScreen</name>
    <message>
        <location filename="../refund.py" line="59"/>
        <source>返金する金額</source>
        <translation>Refund amount</translation>
    </message>
    <message>
        <location filename="../refund.py" line="70"/>
        <source>全額</source>
        <translation>Full amount</translation>
    </message>
    <message>
        <location filename="../refund.py" line="72"/>
        <source>やめる</source>
        <translation>Stop</translation>
    </message>
    <message>
        <location filename="../refund.py" line="74"/>
        <source>返金する</source>
        <translation>Refund</translation>
    </message>
    <message>
        <location filename="../refund.py" line="101"/>
        <source>お支払い {paid}&#x3000;返金できる残り {remaining}</source>
        <translation>Paid {paid}  Left to refund {remaining}</translation>
    </message>
</context>
<context>
    <name>ResultScreen</name>
    <message>
        <location filename="../result.py" line="34"/>
        <source>次のお会計</source>
        <translation>Next sale</translation>
    </message>
    <message>
        <location filename="../result.py" line="35"/>
        <source>もう一度</source>
        <translation>Try again</translation>
    </message>
    <message>
        <location filename="../result.py" line="36"/>
        <source>金額入力に戻る</source>
        <translation>Back to amount</translation>
    </message>
    <message>
        <location filename="../result.py" line="37"/>
        <source>再印刷</source>
        <translation>Reprint</translation>
    </message>
    <message>
        <location filename="../result.py" line="65"/>
        <source>承認（オフライン）</source>
        <translation>Approved (offline)</translation>
    </message>
    <message>
        <location filename="../result.py" line="68"/>
        <source>オフラインで承認しました。お支払いは端末に保存され、サーバーにつながると自動で送信します。
取引番号 {payment_id}</source>
        <translation>Approved offline. The payment is kept on the terminal and is sent automatically when the server is reachable.
Transaction number {payment_id}</translation>
    </message>
    <message>
        <location filename="../result.py" line="74"/>
        <source>承認</source>
        <translation>Approved</translation>
    </message>
    <message>
        <location filename="../result.py" line="75"/>
        <source>QR（お客様読み取り）</source>
        <translation>QR (customer scanned)</translation>
    </message>
    <message>
        <location filename="../result.py" line="75"/>
        <source>コード読み取り</source>
        <translation>Code scanned</translation>
    </message>
    <message>
        <location filename="../result.py" line="77"/>
        <source>{method}&#x3000;取引番号 {payment_id}</source>
        <translation>{method}  Transaction {payment_id}</translation>
    </message>
    <message>
        <location filename="../result.py" line="84"/>
        <source>返金しました</source>
        <translation>Refunded</translation>
    </message>
    <message>
        <location filename="../result.py" line="87"/>
        <source>返金番号 {refund_id}（元の取引 {payment_id}）</source>
        <translation>Refund {refund_id} (transaction {payment_id})</translation>
    </message>
    <message>
        <location filename="../result.py" line="101"/>
        <source>レシートを印刷しています…</source>
        <translation>Printing the receipt…</translation>
    </message>
    <message>
        <location filename="../result.py" line="104"/>
        <source>レシートを印刷しました</source>
        <translation>Receipt printed</translation>
    </message>
</context>
<context>
    <name>SaleLines</name>
    <message>
        <location filename="../sale_screen.py" line="34"/>
        <source>※は軽減税率対象</source>
        <translation>※ reduced tax rate</translation>
    </message>
</context>
<context>
    <name>SaleScreen</name>
    <message>
        <location filename="../sale_screen.py" line="51"/>
        <source>入力中の金額</source>
        <translation>Amount being entered</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="64"/>
        <source>10%で確定</source>
        <translation>Add at 10%</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="67"/>
        <source>8%（軽減）で確定</source>
        <translation>Add at 8% (reduced)</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="70"/>
        <source>QRを表示</source>
        <translation>Show QR</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="73"/>
        <source>コードを読む</source>
        <translation>Scan code</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="76"/>
        <source>履歴</source>
        <translation>History</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="127"/>
        <source>合計 {total}</source>
        <translation>Total {total}</translation>
    </message>
</context>
<context>
    <name>TerminalController</name>
    <message>
        <location filename="../terminal_window.py" line="221"/>
        <source>QRコードの有効期限が切れました</source>
        <translation>The QR code has expired</translation>
    </message>
    <message>
        <location filename="../terminal_window.py" line="228"/>
        <source>お支払いできませんでした</source>
        <translation>Payment failed</translation>
    </message>
    <message>
        <location filename="../terminal_window.py" line="254"/>
        <source>先に金額を入力して「コードを読む」を押してください</source>
        <translation>Enter the amount first, then press Scan code</translation>
    </message>
</context>
<context>
    <name>TerminalWindow</name>
    <message>
        <location filename="../terminal_window.py" line="272"/>
        <source>地域コイン 決済端末</source>
        <translation>Local coin payment terminal</translation>
    </message>
</context>
</TS>
