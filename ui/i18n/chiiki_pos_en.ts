<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US" sourcelanguage="ja_JP">
<context>
    <name>ConnectionBanner</name>
    <message>
        <source>確認しました</source>
        <translation>OK, noted</translation>
    </message>
    <message>
        <source>前回の会計の結果を確認しています（{count}件）。確認が終わるまで、同じお客様の会計をやり直さないでください。</source>
        <translation>Checking the result of an earlier sale ({count}). Until the check is done, do not ring up that customer's sale again.</translation>
    </message>
    <message>
        <source>{time} の会計 {amount} は承認されていました。もう一度会計しないでください。</source>
        <translation>The {amount} sale at {time} was approved. Do not ring it up again.</translation>
    </message>
    <message>
        <source>（ほかに {count}件）</source>
        <translation> ({count} more)</translation>
    </message>
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
Payments are saved here and sent once online</translation>
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
    <message>
        <location filename="../cpm.py" line="74"/>
        <source>クーポンを確認しています…</source>
        <translation>Checking the coupon…</translation>
    </message>
</context>
<context>
    <name>DeclinedScreen</name>
    <message>
        <source>クーポン割引 {discount} もお店に支払われません</source>
        <translation>The coupon discount of {discount} is not paid to the shop either</translation>
    </message>
    <message>
        <source>お支払いは受け付けられましたが、クーポン割引 {discount} はお店に支払われません</source>
        <translation>The payment was accepted, but the coupon discount of {discount} is not paid to the shop</translation>
    </message>
    <message>
        <source>理由: クーポンがすでに使われていました</source>
        <translation>Reason: the coupon had already been used</translation>
    </message>
    <message>
        <source>理由: クーポンの有効期限が切れていました</source>
        <translation>Reason: the coupon had expired</translation>
    </message>
    <message>
        <source>理由: クーポンがお支払いのアプリとは別の方のものでした</source>
        <translation>Reason: the coupon belonged to someone other than the paying app</translation>
    </message>
    <message>
        <source>理由: クーポンをサーバーが受け付けませんでした（{code}）</source>
        <translation>Reason: the server did not accept the coupon ({code})</translation>
    </message>
    <message>
        <source>理由: 残高が足りませんでした</source>
        <translation>Reason: the balance was not enough</translation>
    </message>
    <message>
        <source>理由: お店の残高が返金額に足りませんでした</source>
        <translation>Reason: the shop's balance was less than the refund</translation>
    </message>
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
        <source>クーポン割引だけが支払われなかったお支払いは売上に含まれます。それ以外の取引は売上・返金に反映されていません。選ぶと詳しい説明が出ます</source>
        <translation>Payments whose coupon discount alone was not paid are in the sales. The other entries are not in the sales or refunds. Select one for details</translation>
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
        <source>締め（X・Z）</source>
        <translation>Close day (X/Z)</translation>
    </message>
    <message>
        <source>円に交換・売上</source>
        <translation>Cash out / sales</translation>
    </message>
    <message>
        <location filename="../history.py" line="230"/>
        <source>保守</source>
        <translation>Service</translation>
    </message>
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
        <location filename="../phone.py" line="182"/>
        <source>クーポン付きコードを表示</source>
        <translation>Show code with coupon</translation>
    </message>
    <message>
        <location filename="../phone.py" line="250"/>
        <source>クーポン付きコードを準備しています…</source>
        <translation>Preparing the code with the coupon…</translation>
    </message>
    <message>
        <location filename="../phone.py" line="262"/>
        <source>使えるクーポンがありません。デモのクーポンは使用済みです。デモを起動し直すと、新しいクーポンが届きます</source>
        <translation>No usable coupon: the demo coupon has been used. Restart the demo to receive a new one</translation>
    </message>
    <message>
        <location filename="../phone.py" line="268"/>
        <source>クーポン「{title}」付き</source>
        <translation>With coupon &quot;{title}&quot;</translation>
    </message>
    <message>
        <location filename="../phone.py" line="271"/>
        <source>{minimum}以上で使えます。お店の人に読み取ってもらってください</source>
        <translation>Valid from {minimum}. Ask the shop to scan it</translation>
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
        <location filename="../printing.py" line="128"/>
        <source>用紙がありません。用紙を入れて「もう一度印刷」を押してください。お支払いは完了しています。</source>
        <translation>The printer is out of paper. Load paper, then press Print again. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="130"/>
        <source>プリンターのカバーが開いています。カバーを閉めて「もう一度印刷」を押してください。お支払いは完了しています。</source>
        <translation>The printer cover is open. Close it, then press Print again. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="133"/>
        <source>プリンターが印刷できない状態です。プリンターのランプと用紙を確認して「もう一度印刷」を押してください。お支払いは完了しています。</source>
        <translation>The printer is offline. Check its lights and paper, then press Print again. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="137"/>
        <source>印刷できたか確認できませんでした。レシートが出ていなければ「もう一度印刷」を押してください。お支払いは完了しています。</source>
        <translation>The printer did not confirm the receipt. If no receipt came out, press Print again. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="141"/>
        <source>印刷の途中で止まりました。レシートが出ていなければ「もう一度印刷」を押してください。お支払いは完了しています。</source>
        <translation>Printing stopped part way. If no receipt came out, press Print again. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="144"/>
        <source>プリンターにつながりません。プリンターの電源とケーブルを確認して「もう一度印刷」を押してください。お支払いは完了しています。</source>
        <translation>The printer cannot be reached. Check its power and cable, then press Print again. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="148"/>
        <source>プリンターを別のプログラムが使っています。もう一つの端末アプリを閉じて「もう一度印刷」を押してください。お支払いは完了しています。</source>
        <translation>Another program is using the printer. Close the other copy of the terminal app, then press Print again. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="152"/>
        <source>プリンターの設定に問題があり、レシートを印刷できませんでした。お支払いは完了しています。技術担当者に連絡してください。</source>
        <translation>The receipt did not print because of a printer setting. The payment is complete. Contact a technician.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="156"/>
        <source>レシートを作れませんでした。お支払いは完了しています。「もう一度印刷」で直らない場合は技術担当者に連絡してください。</source>
        <translation>The receipt could not be made. The payment is complete. If Print again does not help, contact a technician.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="159"/>
        <source>このレシートは印刷中です。レシートが出るまでお待ちください。</source>
        <translation>This receipt is being printed. Wait for it to come out.</translation>
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
    <message>
        <location filename="../refund.py" line="116"/>
        <source>返金しています…</source>
        <translation>Refunding…</translation>
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
        <source>もう一度印刷</source>
        <translation>Print again</translation>
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
        <location filename="../result.py" line="138"/>
        <source>このお支払いで {cause} に {amount} を寄付しました</source>
        <translation>This payment gave {amount} to {cause}</translation>
    </message>
    <message>
        <source>クーポン「{title}」 {discount}引き（お会計 {total}）</source>
        <translation>Coupon "{title}": {discount} off (sale {total})</translation>
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
        <location filename="../result.py" line="52"/>
        <source>取引履歴に戻る</source>
        <translation>Back to history</translation>
    </message>
    <message>
        <location filename="../result.py" line="127"/>
        <source>返金できませんでした</source>
        <translation>Refund declined</translation>
    </message>
    <message>
        <location filename="../result.py" line="128"/>
        <source>お客様のアプリには返金されていません。返金のレシートは印刷しません。</source>
        <translation>Nothing was refunded to the customer's app. No refund receipt is printed.</translation>
    </message>
    <message>
        <location filename="../result.py" line="130"/>
        <source>返金はまだ確定していません</source>
        <translation>Refund not confirmed yet</translation>
    </message>
    <message>
        <location filename="../result.py" line="131"/>
        <source>この返金は前にも送信されていて、その結果がまだわかりません。端末がもう一度送信します。結果は取引履歴か「受け付けられなかった取引」で確認してください。返金のレシートは印刷しません。</source>
        <translation>This refund was sent before, and that result is not known yet. The terminal sends it again. Check the result in the history or under refused transactions. No refund receipt is printed.</translation>
    </message>
    <message>
        <location filename="../result.py" line="136"/>
        <source>取引番号 {refund_number}（元の取引 {payment_id}）</source>
        <translation>Transaction number {refund_number} (original payment {payment_id})</translation>
    </message>
    <message>
        <location filename="../result.py" line="101"/>
        <source>レシートを印刷しています…</source>
        <translation>Printing the receipt…</translation>
    </message>
    <message>
        <location filename="../result.py" line="104"/>
        <source>印刷済み</source>
        <translation>Printed</translation>
    </message>
    <message>
        <location filename="../result.py" line="124"/>
        <source>地元専用</source>
        <translation>Local only</translation>
    </message>
    <message>
        <location filename="../result.py" line="125"/>
        <source>全店共通</source>
        <translation>All shops</translation>
    </message>
    <message>
        <location filename="../result.py" line="126"/>
        <source>給付</source>
        <translation>Benefit</translation>
    </message>
    <message>
        <location filename="../result.py" line="127"/>
        <source>コイン</source>
        <translation>Coin</translation>
    </message>
    <message>
        <location filename="../result.py" line="144"/>
        <source>返金の内訳 {split}</source>
        <translation>Refunded as {split}</translation>
    </message>
    <message>
        <location filename="../result.py" line="142"/>
        <source>返金の内訳は、サーバーが返金を受け付けたあとで決まります</source>
        <translation>The kinds refunded are known once the server accepts the refund</translation>
    </message>
</context>
<context>
    <name>SaleLines</name>
    <message>
        <location filename="../sale_screen.py" line="34"/>
        <source>※は軽減税率対象</source>
        <translation>※ reduced tax rate</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="82"/>
        <source>ほか{count}件</source>
        <translation>{count} more</translation>
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
        <source>スタンプラリーのコードです。この端末はお会計の画面なので、スタンプは押せません</source>
        <translation>This is a stamp rally code. This terminal is on the sale screen, so it cannot give stamps</translation>
    </message>
    <message>
        <source>クーポンはお支払いを始める前に、金額入力の画面で読み取ってください</source>
        <translation>Scan coupons on the amount screen, before the payment starts</translation>
    </message>
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
    <message>
        <source>「コードを読む」を押してから、お客様のコードを読み取ってください</source>
        <translation>Press &quot;Scan code&quot; first, then scan the customer's code</translation>
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
<context>
    <name>AddressPage</name>
    <message>
        <location filename="../technician/address.py" line="51"/>
        <source>LANプリンターのアドレス</source>
        <translation>LAN printer address</translation>
    </message>
    <message>
        <location filename="../technician/address.py" line="68"/>
        <source>接続を確認</source>
        <translation>Check connection</translation>
    </message>
    <message>
        <location filename="../technician/address.py" line="71"/>
        <source>このプリンターを使う</source>
        <translation>Use this printer</translation>
    </message>
    <message>
        <location filename="../technician/address.py" line="98"/>
        <source>プリンターのIPアドレスを入力してください（例 192.168.1.50）</source>
        <translation>Enter the printer&apos;s IP address (for example 192.168.1.50)</translation>
    </message>
    <message>
        <location filename="../technician/address.py" line="121"/>
        <source>{address} に接続しています…</source>
        <translation>Connecting to {address}…</translation>
    </message>
    <message>
        <location filename="../technician/address.py" line="133"/>
        <source>プリンターから応答がありません。電源、LANケーブル、アドレスを確認してください
{detail}</source>
        <translation>The printer does not respond. Check its power, LAN cable and address
{detail}</translation>
    </message>
    <message>
        <location filename="../technician/address.py" line="138"/>
        <source>応答あり: {status}</source>
        <translation>Printer responded: {status}</translation>
    </message>
</context>
<context>
    <name>BundlePage</name>
    <message>
        <location filename="../technician/bundle.py" line="52"/>
        <source>サポート用データの書き出し</source>
        <translation>Export support data</translation>
    </message>
    <message>
        <location filename="../technician/bundle.py" line="61"/>
        <source>再検出</source>
        <translation>Search again</translation>
    </message>
    <message>
        <location filename="../technician/bundle.py" line="63"/>
        <source>書き出す</source>
        <translation>Export</translation>
    </message>
    <message>
        <location filename="../technician/bundle.py" line="75"/>
        <source>書き出し先を選んでください。設定とログから暗証番号・鍵・支払いコードは取り除かれます</source>
        <translation>Choose where to export. PINs, keys and payment codes are removed from the settings and logs</translation>
    </message>
    <message>
        <location filename="../technician/bundle.py" line="89"/>
        <source>書き出しています…</source>
        <translation>Exporting…</translation>
    </message>
    <message>
        <location filename="../technician/bundle.py" line="98"/>
        <source>書き出しました: {path}</source>
        <translation>Exported: {path}</translation>
    </message>
    <message>
        <location filename="../technician/bundle.py" line="104"/>
        <source>書き出せませんでした: {error}</source>
        <translation>Could not export: {error}</translation>
    </message>
</context>
<context>
    <name>DevicesPage</name>
    <message>
        <location filename="../technician/devices.py" line="110"/>
        <source>直接読み取り（evdev）</source>
        <translation>Direct read (evdev)</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="115"/>
        <source>カメラ（標準のカメラ）</source>
        <translation>Camera (the default camera)</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="116"/>
        <source>カメラ {camera}</source>
        <translation>Camera {camera}</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="45"/>
        <source>スキャナーとプリンターの選択</source>
        <translation>Choose scanner and printer</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="58"/>
        <source>プリンター</source>
        <translation>Printer</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="59"/>
        <source>スキャナー</source>
        <translation>Scanner</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="67"/>
        <source>再検出</source>
        <translation>Search again</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="69"/>
        <source>LANプリンター</source>
        <translation>LAN printer</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="75"/>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="83"/>
        <source>機器を探しています…</source>
        <translation>Searching for devices…</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="97"/>
        <source>機器が見つかりません。ケーブルと電源を確認して「再検出」を押してください</source>
        <translation>No devices found. Check the cables and power, then press &quot;Search again&quot;</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="99"/>
        <source>使う機器を選んで「保存」を押してください</source>
        <translation>Choose the devices to use and press &quot;Save&quot;</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="107"/>
        <source>シリアル {port}</source>
        <translation>Serial {port}</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="108"/>
        <source>キーボード入力（ウェッジ）</source>
        <translation>Keyboard input (wedge)</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="130"/>
        <source>用紙 {width} mm</source>
        <translation>Paper {width} mm</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="132"/>
        <source>選択中&#x3000;プリンター: {printer}&#x3000;スキャナー: {scanner}</source>
        <translation>Chosen: printer {printer}, scanner {scanner}</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="149"/>
        <source>設定ファイルの場所が決まっていないため保存できません</source>
        <translation>Cannot save: no configuration file location is set</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="162"/>
        <source>{path} に保存しました。端末を再起動すると新しい設定で動きます</source>
        <translation>Saved to {path}. Restart the terminal to use the new settings</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="169"/>
        <source>保存できませんでした: {error}</source>
        <translation>Could not save: {error}</translation>
    </message>
    <message>
        <location filename="../technician/devices.py" line="172"/>
        <source>処理に失敗しました: {error}</source>
        <translation>Failed: {error}</translation>
    </message>
</context>
<context>
    <name>DiagnosticsPage</name>
    <message>
        <location filename="../technician/diagnostics_page.py" line="31"/>
        <source>診断</source>
        <translation>Diagnostics</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="37"/>
        <source>端末</source>
        <translation>Terminal</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="38"/>
        <source>プリンター</source>
        <translation>Printer</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="39"/>
        <source>サーバー</source>
        <translation>Server</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="40"/>
        <source>未送信</source>
        <translation>Unsent</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="41"/>
        <source>時計のずれ</source>
        <translation>Clock offset</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="42"/>
        <source>バージョン</source>
        <translation>Versions</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="55"/>
        <source>更新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="65"/>
        <source>調べています…</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="84"/>
        <source>端末ID {terminal}</source>
        <translation>Terminal ID {terminal}</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="84"/>
        <source>未登録</source>
        <translation>not enrolled</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="94"/>
        <source>{time} に調べました</source>
        <translation>Checked at {time}</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="100"/>
        <source>接続できます（応答 {ms:.0f} ms）</source>
        <translation>Reachable (response in {ms:.0f} ms)</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="102"/>
        <source>接続できません: {error}</source>
        <translation>Not reachable: {error}</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="109"/>
        <source>{count}件 {total}&#x3000;受け付けられなかった取引 {declined}件</source>
        <translation>{count} waiting, {total}; refused transactions: {declined}</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="115"/>
        <source>最も古いもの {time}</source>
        <translation>Oldest: {time}</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="122"/>
        <source>不明</source>
        <translation>Unknown</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="124"/>
        <source>この端末の時計は {seconds:+.1f} 秒ずれています</source>
        <translation>This terminal&apos;s clock is off by {seconds:+.1f} s</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="126"/>
        <source>時計を合わせてください</source>
        <translation>Set the clock</translation>
    </message>
    <message>
        <location filename="../technician/diagnostics_page.py" line="132"/>
        <source>診断に失敗しました: {error}</source>
        <translation>Diagnostics failed: {error}</translation>
    </message>
</context>
<context>
    <name>EnrolPage</name>
    <message>
        <location filename="../technician/enrol.py" line="43"/>
        <source>端末の登録</source>
        <translation>Enrol terminal</translation>
    </message>
    <message>
        <location filename="../technician/enrol.py" line="53"/>
        <source>登録する</source>
        <translation>Enrol</translation>
    </message>
    <message>
        <location filename="../technician/enrol.py" line="75"/>
        <source>運営者から受け取った登録コード（12文字）を入力してください</source>
        <translation>Enter the activation code (12 characters) from the operator</translation>
    </message>
    <message>
        <location filename="../technician/enrol.py" line="96"/>
        <source>サーバーに登録しています…</source>
        <translation>Enrolling with the server…</translation>
    </message>
    <message>
        <location filename="../technician/enrol.py" line="105"/>
        <source>登録しました: 端末ID {terminal}（{shop}）。端末を再起動してください</source>
        <translation>Enrolled: terminal ID {terminal} ({shop}). Restart the terminal</translation>
    </message>
    <message>
        <location filename="../technician/enrol.py" line="115"/>
        <source>登録できませんでした: {error}</source>
        <translation>Could not enrol: {error}</translation>
    </message>
</context>
<context>
    <name>PrintCheckPage</name>
    <message>
        <location filename="../technician/print_check.py" line="47"/>
        <source>印字テスト</source>
        <translation>Test print</translation>
    </message>
    <message>
        <location filename="../technician/print_check.py" line="57"/>
        <source>テストページを印刷</source>
        <translation>Print test page</translation>
    </message>
    <message>
        <location filename="../technician/print_check.py" line="64"/>
        <source>プリンター: {url}&#x3000;用紙 {width} mm</source>
        <translation>Printer: {url}, paper {width} mm</translation>
    </message>
    <message>
        <location filename="../technician/print_check.py" line="67"/>
        <source>「テストページを印刷」を押すと、日本語・QRコード入りのページを印刷します</source>
        <translation>Press &quot;Print test page&quot; to print a page with Japanese text and a QR code</translation>
    </message>
    <message>
        <location filename="../technician/print_check.py" line="73"/>
        <source>印刷しています…</source>
        <translation>Printing…</translation>
    </message>
    <message>
        <location filename="../technician/print_check.py" line="79"/>
        <source>プリンターの状態: {status}</source>
        <translation>Printer status: {status}</translation>
    </message>
    <message>
        <location filename="../technician/print_check.py" line="81"/>
        <source>テストページを送りました。印刷されたページとQRコードを確認してください</source>
        <translation>Test page sent. Check the printed page and its QR code</translation>
    </message>
    <message>
        <location filename="../technician/print_check.py" line="83"/>
        <source>印刷できませんでした: {error}</source>
        <translation>Could not print: {error}</translation>
    </message>
    <message>
        <location filename="../technician/print_check.py" line="85"/>
        <source>プリンターの問題を直してから、もう一度押してください</source>
        <translation>Fix the printer problem, then press again</translation>
    </message>
</context>
<context>
    <name>ScanCheckPage</name>
    <message>
        <location filename="../technician/scan_check.py" line="112"/>
        <source>キー入力を通らないスキャナーのため、受け取った文字は変換後のものです</source>
        <translation>This scanner does not send key presses, so the characters shown are the decoded code</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="42"/>
        <source>読み取りテスト</source>
        <translation>Test scan</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="57"/>
        <source>受け取った文字</source>
        <translation>Characters received</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="60"/>
        <source>読み取り結果</source>
        <translation>Result</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="62"/>
        <source>表示を消す</source>
        <translation>Clear</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="76"/>
        <source>スキャナーでコードを読んでください。受け取った内容をそのまま表示します</source>
        <translation>Scan a code. What arrives is shown exactly as received</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="96"/>
        <source>スキャンとして受け付けました（{count}文字）</source>
        <translation>Accepted as a scan ({count} characters)</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="97"/>
        <source>変換後: {code}</source>
        <translation>After repair: {code}</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="101"/>
        <source>全角文字や記号の入れ替えを直しました</source>
        <translation>Full-width characters or swapped symbols were repaired</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="110"/>
        <source>かな入力がオンです。入力モードを半角英数にしてください</source>
        <translation>Kana input is on. Switch the input method to half-width alphanumeric</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="111"/>
        <source>スキャンとして使えません: {reason}</source>
        <translation>Not usable as a scan: {reason}</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="118"/>
        <source>{keys}キーを {ms:.0f} ms で受信</source>
        <translation>{keys} keys received in {ms:.0f} ms</translation>
    </message>
    <message>
        <location filename="../technician/scan_check.py" line="122"/>
        <source>人の入力として扱いました（スキャンではありません）</source>
        <translation>Taken as typing by a person (not a scan)</translation>
    </message>
</context>
<context>
    <name>TechnicianMenu</name>
    <message>
        <source>お会計に戻す</source>
        <translation>Back to sales</translation>
    </message>
    <message>
        <source>スタンプラリー受付にする</source>
        <translation>Make this a stamp rally booth</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="25"/>
        <source>保守メニュー</source>
        <translation>Service menu</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="29"/>
        <source>スキャナーとプリンターの選択</source>
        <translation>Choose scanner and printer</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="30"/>
        <source>印字テスト</source>
        <translation>Test print</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="31"/>
        <source>読み取りテスト</source>
        <translation>Test scan</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="32"/>
        <source>診断</source>
        <translation>Diagnostics</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="33"/>
        <source>端末の登録</source>
        <translation>Enrol terminal</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="34"/>
        <source>サポート用データの書き出し</source>
        <translation>Export support data</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="44"/>
        <source>保守を終わる</source>
        <translation>Leave service menu</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="55"/>
        <source>端末ID {terminal}&#x3000;設定ファイル {path}</source>
        <translation>Terminal ID {terminal}, configuration file {path}</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="56"/>
        <source>未登録</source>
        <translation>not enrolled</translation>
    </message>
    <message>
        <location filename="../technician/menu.py" line="56"/>
        <source>なし</source>
        <translation>none</translation>
    </message>
</context>
<context>
    <name>TechnicianPinScreen</name>
    <message>
        <location filename="../technician/pin.py" line="80"/>
        <source>保守メニュー：技術者の暗証番号</source>
        <translation>Service menu: technician PIN</translation>
    </message>
    <message>
        <location filename="../technician/pin.py" line="95"/>
        <source>技術者の暗証番号が設定されていません。設定ファイルに technician_pin_hash を入れてください</source>
        <translation>No technician PIN is set. Add technician_pin_hash to the configuration file</translation>
    </message>
    <message>
        <location filename="../technician/pin.py" line="98"/>
        <source>暗証番号を入力して「OK」を押してください</source>
        <translation>Enter the PIN and press &quot;OK&quot;</translation>
    </message>
    <message>
        <location filename="../technician/pin.py" line="106"/>
        <source>確認しています…</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <location filename="../technician/pin.py" line="119"/>
        <source>暗証番号が違います。あと {tries} 回まちがえると しばらく使えなくなります</source>
        <translation>Wrong PIN. After {tries} more wrong tries the PIN is locked for a while</translation>
    </message>
    <message>
        <location filename="../technician/pin.py" line="127"/>
        <source>暗証番号を確認できませんでした。もう一度入力してください</source>
        <translation>The PIN could not be checked. Enter it again</translation>
    </message>
    <message>
        <location filename="../technician/pin.py" line="134"/>
        <source>暗証番号を何度もまちがえたため {minutes} 分間は使えません</source>
        <translation>Too many wrong PINs: locked for {minutes} min</translation>
    </message>
</context>
<context>
    <name>TechnicianStatus</name>
    <message>
        <source>正常（印刷できます）</source>
        <translation>OK (ready to print)</translation>
    </message>
    <message>
        <source>状態は不明です: {detail}</source>
        <translation>Status unknown: {detail}</translation>
    </message>
    <message>
        <source>カバーが開いています</source>
        <translation>Cover open</translation>
    </message>
    <message>
        <source>用紙がありません</source>
        <translation>Out of paper</translation>
    </message>
    <message>
        <source>オフラインです</source>
        <translation>Offline</translation>
    </message>
    <message>
        <source>用紙が残りわずかです</source>
        <translation>Paper nearly out</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>、</source>
        <translation>, </translation>
    </message>
</context>
<context>
    <name>SetupWindow</name>
    <message>
        <location filename="../technician/setup.py" line="30"/>
        <source>地域コイン 決済端末の設定</source>
        <translation>Local coin payment terminal setup</translation>
    </message>
</context>
<context>
    <name>CashOut</name>
    <message>
        <source>本日 {date}</source>
        <translation>Today, {date}</translation>
    </message>
    <message>
        <source>{date}（次の銀行営業日）</source>
        <translation>{date} (next bank business day)</translation>
    </message>
    <message>
        <source>普通</source>
        <translation>Ordinary</translation>
    </message>
    <message>
        <source>当座</source>
        <translation>Current</translation>
    </message>
    <message>
        <source>貯蓄</source>
        <translation>Savings</translation>
    </message>
    <message>
        <source>銀行 {bank}　支店 {branch}　{type} ****{last4}　{holder}</source>
        <translation>Bank {bank}, branch {branch}, {type} ****{last4}, {holder}</translation>
    </message>
    <message>
        <source>理由不明</source>
        <translation>reason unknown</translation>
    </message>
    <message>
        <source>失敗（{reason}）</source>
        <translation>Failed ({reason})</translation>
    </message>
    <message>
        <source>申請済み</source>
        <translation>Requested</translation>
    </message>
    <message>
        <source>振込ファイル作成済み</source>
        <translation>In transfer file</translation>
    </message>
    <message>
        <source>入金済み</source>
        <translation>Paid in</translation>
    </message>
</context>
<context>
    <name>CashOutAmountScreen</name>
    <message>
        <source>円に交換する金額</source>
        <translation>Amount to cash out</translation>
    </message>
    <message>
        <source>全額</source>
        <translation>All</translation>
    </message>
    <message>
        <source>やめる</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>手数料を確認</source>
        <translation>Check the fee</translation>
    </message>
    <message>
        <source>残高を読み込んでいます…</source>
        <translation>Loading the balance…</translation>
    </message>
    <message>
        <source>交換できる残高 {balance}</source>
        <translation>Balance available {balance}</translation>
    </message>
    <message>
        <source>振込待ち {pending}</source>
        <translation>Awaiting payout {pending}</translation>
    </message>
</context>
<context>
    <name>CashOutConfirmScreen</name>
    <message>
        <source>この内容で円に交換しますか</source>
        <translation>Cash out to yen as shown?</translation>
    </message>
    <message>
        <source>交換する額</source>
        <translation>Amount</translation>
    </message>
    <message>
        <source>手数料</source>
        <translation>Fee</translation>
    </message>
    <message>
        <source>口座に入る額</source>
        <translation>To your bank</translation>
    </message>
    <message>
        <source>振込予定日</source>
        <translation>Payout date</translation>
    </message>
    <message>
        <source>振込先</source>
        <translation>Bank account</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>交換の状況</source>
        <translation>Cash-out status</translation>
    </message>
    <message>
        <source>円に交換する</source>
        <translation>Cash out</translation>
    </message>
    <message>
        <source>送信しています…</source>
        <translation>Sending…</translation>
    </message>
    <message>
        <source>円への交換を受け付けました</source>
        <translation>Cash-out requested</translation>
    </message>
    <message>
        <source>状況は「交換の状況」で確認できます</source>
        <translation>See its progress under “Cash-out status”</translation>
    </message>
    <message>
        <source>（うち月額 {fixed}）</source>
        <translation>(monthly part {fixed})</translation>
    </message>
</context>
<context>
    <name>CashOutListScreen</name>
    <message>
        <source>円への交換の状況</source>
        <translation>Cash-out status</translation>
    </message>
    <message>
        <source>更新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>読み込んでいます…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <source>まだ円への交換はありません</source>
        <translation>No cash-outs yet</translation>
    </message>
    <message>
        <source>{requested}　{amount} → 口座へ {net}（{payout}）　{status}</source>
        <translation>{requested}  {amount} → bank {net} ({payout})  {status}</translation>
    </message>
</context>
<context>
    <name>CashOutPresenter</name>
    <message>
        <source>前回の円への交換の結果を確認しています。画面はそのままでお待ちください</source>
        <translation>Checking the result of the earlier cash-out. Please wait on this screen</translation>
    </message>
    <message>
        <source>結果を確認しています。画面はそのままでお待ちください</source>
        <translation>Checking the result. Please wait on this screen.</translation>
    </message>
    <message>
        <source>円への交換にはサーバーとの接続が必要です。ネットワークを確認し、つながってからもう一度お試しください</source>
        <translation>Cashing out needs a connection to the server. Check the network and try again once it is back.</translation>
    </message>
    <message>
        <source>金額が残高を超えています。残高以下の金額にしてください</source>
        <translation>The amount is more than the balance. Enter an amount up to the balance.</translation>
    </message>
    <message>
        <source>金額が残高 {balance} を超えています。{balance} 以下にしてください</source>
        <translation>The amount is more than the balance of {balance}. Enter {balance} or less.</translation>
    </message>
</context>
<context>
    <name>ExportPresenter</name>
    <message>
        <source>売上データの取得にはサーバーとの接続が必要です。つながってからもう一度お試しください</source>
        <translation>Getting the sales data needs a connection to the server. Try again once it is back.</translation>
    </message>
    <message>
        <source>書き出せませんでした。USBメモリが差し込まれているか確認してください（{error}）</source>
        <translation>Could not write the files. Check that the USB stick is plugged in ({error}).</translation>
    </message>
</context>
<context>
    <name>ExportScreen</name>
    <message>
        <source>売上・手数料のCSV</source>
        <translation>Sales and fees CSV</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>再検出</source>
        <translation>Scan again</translation>
    </message>
    <message>
        <source>中止</source>
        <translation>Stop</translation>
    </message>
    <message>
        <source>書き出す</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>月と書き出し先を選んで「書き出す」を押してください</source>
        <translation>Choose the month and where to save, then press “Export”.</translation>
    </message>
    <message>
        <source>書き出しています…</source>
        <translation>Exporting…</translation>
    </message>
    <message>
        <source>書き出しました: {statement}、{register}</source>
        <translation>Exported: {statement}, {register}</translation>
    </message>
    <message>
        <source>書き出しを中止しました。途中のファイルは残っていません</source>
        <translation>Export stopped. No partly written file was left.</translation>
    </message>
</context>
<context>
    <name>MoneyMenuScreen</name>
    <message>
        <source>売上と円への交換</source>
        <translation>Sales and cash-out</translation>
    </message>
    <message>
        <source>円に交換</source>
        <translation>Cash out to yen</translation>
    </message>
    <message>
        <source>交換の状況</source>
        <translation>Cash-out status</translation>
    </message>
    <message>
        <source>売上・手数料のCSV</source>
        <translation>Sales and fees CSV</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
</context>
<context>
    <name>MoneyScreens</name>
    <message>
        <source>円への交換と売上データには責任者の暗証番号が必要です</source>
        <translation>Cash-out and sales data need the manager PIN</translation>
    </message>
</context>
<context>
    <name>DayClosePresenter</name>
    <message>
        <source>端末のデータベースが使えないため、締め処理ができません。</source>
        <translation>The terminal database is not available, so the day cannot be closed.</translation>
    </message>
    <message>
        <source>営業日 {day} は精算済みです（精算番号 Z{number}）。「過去の精算」で見て印刷できます。</source>
        <translation>Business day {day} is closed already (Z{number}). View and print it under "Past Z reports".</translation>
    </message>
    <message>
        <source>この端末ではレポートを印刷できません。</source>
        <translation>This terminal cannot print reports.</translation>
    </message>
    <message>
        <source>レポートを印刷できませんでした。用紙・カバー・電源を確認して「印刷」を押してください。</source>
        <translation>The report did not print. Check the paper, the cover and the power, then press "Print".</translation>
    </message>
</context>
<context>
    <name>DayCloseMenu</name>
    <message>
        <source>締め処理</source>
        <translation>Close the day</translation>
    </message>
    <message>
        <source>点検（X）は何度でも見られます。精算（Z）はその日を締めます。</source>
        <translation>The X report can be viewed any time. The Z report closes the day.</translation>
    </message>
    <message>
        <source>点検（X）</source>
        <translation>X report</translation>
    </message>
    <message>
        <source>精算（Z）</source>
        <translation>Z report (close)</translation>
    </message>
    <message>
        <source>過去の精算</source>
        <translation>Past Z reports</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
</context>
<context>
    <name>DayReportScreen</name>
    <message>
        <source>クーポン割引（発行元から入金）</source>
        <translation>Coupon discounts (paid by the issuers)</translation>
    </message>
    <message>
        <source>クーポン割引（未入金）</source>
        <translation>Coupon discounts (not paid)</translation>
    </message>
    <message>
        <source>（クーポン割引 {discount} も未入金）</source>
        <translation> (coupon discount of {discount} not paid either)</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>印刷</source>
        <translation>Print</translation>
    </message>
    <message>
        <source>この内容で精算する</source>
        <translation>Close the day with this</translation>
    </message>
    <message>
        <source>時間帯別売上</source>
        <translation>Sales by hour</translation>
    </message>
    <message>
        <source>点検（X）　営業日 {day}</source>
        <translation>X report  Business day {day}</translation>
    </message>
    <message>
        <source>精算（Z）の確認　営業日 {day}</source>
        <translation>Check the Z report  Business day {day}</translation>
    </message>
    <message>
        <source>精算（Z）Z{number}　営業日 {day}</source>
        <translation>Z report Z{number}  Business day {day}</translation>
    </message>
    <message>
        <source>サーバー照合：未確認（サーバーに接続できません）</source>
        <translation>Server check: not done (server not reachable)</translation>
    </message>
    <message>
        <source>サーバー照合：一致</source>
        <translation>Server check: matches</translation>
    </message>
    <message>
        <source>サーバー照合：不一致　差額 {difference}</source>
        <translation>Server check: differs by {difference}</translation>
    </message>
    <message>
        <source>QR（スマホで読取）</source>
        <translation>QR (customer scans)</translation>
    </message>
    <message>
        <source>コード（オンライン）</source>
        <translation>Code (online)</translation>
    </message>
    <message>
        <source>コード（オフライン）</source>
        <translation>Code (offline)</translation>
    </message>
    <message>
        <source>売上 計</source>
        <translation>Sales total</translation>
    </message>
    <message>
        <source>返金</source>
        <translation>Refunds</translation>
    </message>
    <message>
        <source>純売上</source>
        <translation>Net sales</translation>
    </message>
    <message>
        <source>確定済み（純額）</source>
        <translation>Confirmed (net)</translation>
    </message>
    <message>
        <source>送信待ち</source>
        <translation>Waiting to send</translation>
    </message>
    <message>
        <source>{count}件 {amount}</source>
        <translation>{count}x {amount}</translation>
    </message>
    <message>
        <source>（担当者なし）</source>
        <translation>(no clerk)</translation>
    </message>
    <message>
        <source>担当 {name}</source>
        <translation>Clerk {name}</translation>
    </message>
    <message>
        <source>地域コイン</source>
        <translation>Local coin</translation>
    </message>
    <message>
        <source>プレミアム（地元店）</source>
        <translation>Premium (local shops)</translation>
    </message>
    <message>
        <source>プレミアム（全店）</source>
        <translation>Premium (all shops)</translation>
    </message>
    <message>
        <source>給付</source>
        <translation>Benefit</translation>
    </message>
    <message>
        <source>　うち {kind}</source>
        <translation>  of which {kind}</translation>
    </message>
    <message>
        <source>受け付けられなかった取引 {count}件（合計に含みません）</source>
        <translation>{count} declined entries (not in the totals)</translation>
    </message>
</context>
<context>
    <name>WaitingWarning</name>
    <message>
        <source>送信待ちの取引があります</source>
        <translation>Payments are waiting to be sent</translation>
    </message>
    <message>
        <source>戻る（送信を待つ）</source>
        <translation>Back (wait for sending)</translation>
    </message>
    <message>
        <source>送信待ちのまま精算する</source>
        <translation>Close with waiting payments</translation>
    </message>
    <message>
        <source>サーバーにまだ送信していない取引が {count}件（{amount}）あります。このまま精算すると、この取引は確定前のまま精算レポートに入り、後でサーバーに受け付けられないことがあります。通信が戻るまで待てる場合は「戻る」を押してください。</source>
        <translation>{count} entries ({amount}) have not been sent to the server yet. If you close the day now, they go into the Z report unconfirmed, and the server may still decline them later. If you can wait until the connection returns, press "Back".</translation>
    </message>
</context>
<context>
    <name>DayCloseHistory</name>
    <message>
        <source>過去の精算</source>
        <translation>Past Z reports</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>表示</source>
        <translation>View</translation>
    </message>
    <message>
        <source>印刷</source>
        <translation>Print</translation>
    </message>
    <message>
        <source>Z{number}　営業日 {day}　純売上 {net}</source>
        <translation>Z{number}  Business day {day}  Net {net}</translation>
    </message>
    <message>
        <source>まだ精算していません</source>
        <translation>No day has been closed yet</translation>
    </message>
</context>
<context>
    <name>HourlyChart</name>
    <message>
        <source>売上はありません</source>
        <translation>No sales</translation>
    </message>
    <message>
        <source>{hour}時</source>
        <translation>{hour}h</translation>
    </message>
    <message>
        <source>最多 {hour}時台 {amount}</source>
        <translation>Busiest {hour}:00 {amount}</translation>
    </message>
</context>
<context>
    <name>ClerkChooser</name>
    <message>
        <source>担当：未選択</source>
        <translation>Clerk: none</translation>
    </message>
    <message>
        <source>担当：{name}</source>
        <translation>Clerk: {name}</translation>
    </message>
    <message>
        <source>担当者を選んでください</source>
        <translation>Choose the clerk</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
</context>
<context>
    <name>DayCloseFlow</name>
    <message>
        <source>締め処理には責任者の暗証番号が必要です</source>
        <translation>Closing the day needs the manager PIN</translation>
    </message>
    <message>
        <source>読み込んでいます…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <source>印刷しています…</source>
        <translation>Printing…</translation>
    </message>
    <message>
        <source>印刷しました</source>
        <translation>Printed</translation>
    </message>
    <message>
        <source>点検（X）は何度でも見られます。精算（Z）はその日を締めます。</source>
        <translation>The X report can be viewed any time. The Z report closes the day.</translation>
    </message>
    <message>
        <source>精算しました（Z{number}）。レポートを印刷します。</source>
        <translation>The day is closed (Z{number}). Printing the report.</translation>
    </message>
</context>
<context>
    <name>StampModeScreen</name>
    <message>
        <source>保守</source>
        <translation>Service</translation>
    </message>
    <message>
        <source>受付できなかった
スタンプ {count}件</source>
        <translation>Stamps not
accepted: {count}</translation>
    </message>
    <message>
        <source>特典はすでにウォレットに付与されています</source>
        <translation>The reward is already in the wallet</translation>
    </message>
    <message>
        <source>このコードは使えません</source>
        <translation>This code cannot be used</translation>
    </message>
    <message>
        <source>次の方へ</source>
        <translation>Next person</translation>
    </message>
    <message>
        <source>本日の押印</source>
        <translation>Stamps today</translation>
    </message>
    <message>
        <source>オフライン：スタンプは端末に保存し、つながると送信します（未送信 {count}件）</source>
        <translation>Offline: stamps are saved here and sent once online ({count} unsent)</translation>
    </message>
    <message>
        <source>参加者のコードを読み取ってください</source>
        <translation>Scan the participant's code</translation>
    </message>
    <message>
        <source>スマホのスタンプラリー画面のコードを
スキャナーにかざしてもらってください</source>
        <translation>Ask the participant to hold the code on the stamp rally screen
of their phone to the scanner</translation>
    </message>
    <message>
        <source>スタンプを記録できませんでした</source>
        <translation>The stamp could not be recorded</translation>
    </message>
    <message>
        <source>スタンプは押されていません。もう一度読み取ってください。続くときは係の責任者に連絡してください</source>
        <translation>No stamp was given. Scan again. If this keeps happening, call the person in charge</translation>
    </message>
    <message>
        <source>前の読み取りを処理しています。少し待ってからもう一度読み取ってください</source>
        <translation>Still handling the previous scan. Wait a moment and scan again</translation>
    </message>
    <message>
        <source>スタンプを押しました</source>
        <translation>Stamp given</translation>
    </message>
    <message>
        <source>特典は、通信が戻るとウォレットに届きます</source>
        <translation>The reward reaches the wallet once the terminal is online again</translation>
    </message>
    <message>
        <source>特典のクーポン「{title}」をウォレットに付与しました</source>
        <translation>Reward coupon "{title}" added to the wallet</translation>
    </message>
    <message>
        <source>特典については係の責任者に確認してください</source>
        <translation>Ask the person in charge about the reward</translation>
    </message>
    <message>
        <source>係の責任者に確認してください</source>
        <translation>Ask the person in charge</translation>
    </message>
    <message>
        <source>スタンプラリー</source>
        <translation>Stamp rally</translation>
    </message>
    <message>
        <source>スタンプラリーの情報がありません</source>
        <translation>No stamp rally information</translation>
    </message>
    <message>
        <source>ネットワークにつないでから、端末を起動し直してください</source>
        <translation>Connect to the network, then restart the terminal</translation>
    </message>
    <message>
        <source>準備しています</source>
        <translation>Getting ready</translation>
    </message>
    <message>
        <source>スタンプラリーの情報を読み込んでいます</source>
        <translation>Loading the stamp rally</translation>
    </message>
    <message>
        <source>ゴール達成！おめでとうございます</source>
        <translation>Goal reached! Congratulations</translation>
    </message>
    <message>
        <source>あと {left}個でゴールです</source>
        <translation>{left} more to the goal</translation>
    </message>
    <message>
        <source>（オフラインのため、ほかのブースの分は通信が戻ってから数えます）</source>
        <translation>(Offline: stamps from other booths are counted once the terminal is online again)</translation>
    </message>
    <message>
        <source>スタンプラリーのコードではありません。ウォレットのスタンプラリー画面を開いてもらってください</source>
        <translation>This is not a stamp rally code. Ask the participant to open the stamp rally screen of the wallet</translation>
    </message>
    <message>
        <source>読み取れませんでした</source>
        <translation>Could not read the code</translation>
    </message>
    <message>
        <source>画面を明るくして、もう一度かざしてもらってください</source>
        <translation>Ask the participant to turn up the screen brightness and hold it up again</translation>
    </message>
    <message>
        <source>別のスタンプラリーのコードです。このラリーの画面を開いてもらってください</source>
        <translation>This code is for another stamp rally. Ask the participant to open this rally's screen</translation>
    </message>
    <message>
        <source>この地域のコードではありません。続くときはネットワークにつないで端末を起動し直してください</source>
        <translation>This code is not from this region. If this keeps happening, connect to the network and restart the terminal</translation>
    </message>
    <message>
        <source>スタンプラリーの期間外です</source>
        <translation>The stamp rally is not running today</translation>
    </message>
    <message>
        <source>{count} / {goal} 個</source>
        <translation>{count} / {goal}</translation>
    </message>
    <message>
        <source>{booth}　目標 {goal}個</source>
        <translation>{booth}, goal {goal} stamps</translation>
    </message>
    <message>
        <source>{count}件</source>
        <translation>{count}</translation>
    </message>
    <message>
        <source>オンライン</source>
        <translation>Online</translation>
    </message>
    <message>
        <source>本日このブースでは押印済みです</source>
        <translation>Already stamped at this booth today</translation>
    </message>
    <message>
        <source>スタンプは1日1回です。ほかのブースも回ってください</source>
        <translation>One stamp per booth per day. Visit the other booths too</translation>
    </message>
    <message>
        <source>特典 {reward}円分のポイントをウォレットに付与しました</source>
        <translation>Reward of {reward} yen in points added to the wallet</translation>
    </message>
    <message>
        <source>期間：{start} 〜 {end}</source>
        <translation>Period: {start} to {end}</translation>
    </message>
    <message>
        <source>未送信のスタンプ {count}件</source>
        <translation>{count} stamps not yet sent</translation>
    </message>
    <message>
        <source>このスタンプラリーは終了しました</source>
        <translation>This stamp rally has ended</translation>
    </message>
    <message>
        <source>スタンプは押せません。係の責任者に確認してください</source>
        <translation>No stamps can be given. Ask the person in charge</translation>
    </message>
    <message>
        <source>このスタンプラリーはまだ始まっていません</source>
        <translation>This stamp rally has not started yet</translation>
    </message>
    <message>
        <source>開始日からスタンプを押せます</source>
        <translation>Stamps can be given from the first day</translation>
    </message>
</context>
<context>
    <name>CouponPanel</name>
    <message>
        <source>クーポンを外す</source>
        <translation>Remove coupon</translation>
    </message>
    <message>
        <source>クーポンを読み取りました</source>
        <translation>Coupon scanned</translation>
    </message>
    <message>
        <source>金額の入力後に割引を表示</source>
        <translation>Enter the amount to see the discount</translation>
    </message>
    <message>
        <source>クーポンを確認しています…</source>
        <translation>Checking the coupon…</translation>
    </message>
    <message>
        <source>クーポン {title} −{discount}</source>
        <translation>Coupon {title} −{discount}</translation>
    </message>
    <message>
        <source>お支払い {due}</source>
        <translation>To pay {due}</translation>
    </message>
</context>
<context>
    <name>CouponNote</name>
    <message>
        <source>クーポン {title} −{discount}（合計 {total}）</source>
        <translation>Coupon {title} −{discount} (total {total})</translation>
    </message>
</context>
<context>
    <name>DeclinedPresenter</name>
    <message>
        <source>お支払いは売上に入っています。クーポン割引の分だけ入金されません。お客様にもう一度請求せず、運営事務局に連絡してください。</source>
        <translation>The payment counts in the sales, but the coupon discount is not paid to the shop. Do not charge the customer again; contact the operator.</translation>
    </message>
</context>
<context>
    <name>DeclinedStampsScreen</name>
    <message>
        <source>受付できなかったスタンプ</source>
        <translation>Stamps not accepted</translation>
    </message>
    <message>
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>読み込んでいます…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <source>読み込めませんでした。もう一度開いてください</source>
        <translation>Could not load the list. Open it again.</translation>
    </message>
    <message>
        <source>これらのスタンプは参加者の数に入っていません。参加者から問い合わせがあれば、理由を伝えてください</source>
        <translation>These stamps are not counted for the participants. If a participant asks, tell them the reason.</translation>
    </message>
    <message>
        <source>受付できなかったスタンプはありません</source>
        <translation>No stamps were rejected</translation>
    </message>
    <message>
        <source>%m月%d日 %H:%M</source>
        <translation>%m/%d %H:%M</translation>
    </message>
    <message>
        <source>{time}　コード {code}
{reason}</source>
        <translation>{time}   code {code}
{reason}</translation>
    </message>
    <message>
        <source>この参加者には、同じ日にこのブースのスタンプがすでにありました</source>
        <translation>The participant already had a stamp from this booth that day</translation>
    </message>
    <message>
        <source>スタンプラリーの期間外か、この端末がブースではなくなっていました</source>
        <translation>The rally was not running, or this terminal was no longer a booth</translation>
    </message>
    <message>
        <source>コードが正しくないか、このラリーのブースでは使えないコードでした</source>
        <translation>The code was invalid, or not for a rally this booth serves</translation>
    </message>
    <message>
        <source>サーバーが受け付けませんでした（理由 {reason}）。運営事務局に連絡してください</source>
        <translation>The server rejected it (reason {reason}). Contact the rally office.</translation>
    </message>
</context>
<context>
    <name>ModePage</name>
    <message>
        <source>未送信のお支払いとスタンプはありません</source>
        <translation>No payments or stamps wait to be sent</translation>
    </message>
    <message>
        <source>スタンプラリー受付にする</source>
        <translation>Make this a stamp rally booth</translation>
    </message>
    <message>
        <source>この端末をスタンプラリーの受付にします。
・画面がスタンプの受付に変わり、お会計はできなくなります
・設定ファイルに保存するので、再起動してもスタンプの受付で開きます
・保守メニューの「お会計に戻す」で、いつでも戻せます</source>
        <translation>This terminal becomes a stamp rally booth.
• The screen changes to the stamp booth, and sales are no longer possible
• The setting is saved to the config file, so the booth screen also opens after a restart
• "Back to sales" in the service menu switches back at any time</translation>
    </message>
    <message>
        <source>お会計に戻す</source>
        <translation>Back to sales</translation>
    </message>
    <message>
        <source>この端末をお会計の画面に戻します。
・スタンプの受付は終わり、スタンプラリーのコードを読んでもスタンプは押されません
・設定ファイルに保存するので、再起動してもお会計の画面で開きます</source>
        <translation>This terminal goes back to the sale screen.
• The stamp booth closes, and scanning a rally code gives no stamp
• The setting is saved to the config file, so the sale screen also opens after a restart</translation>
    </message>
    <message>
        <source>この画面からは切り替えられません。端末を起動し直してください</source>
        <translation>The terminal cannot be switched from this screen. Restart the terminal.</translation>
    </message>
    <message>
        <source>この端末がスタンプラリーのブースか、サーバーに確認しています…</source>
        <translation>Asking the server whether this terminal is a stamp rally booth…</translation>
    </message>
    <message>
        <source>未送信のお支払い {payments}件・スタンプ {stamps}件は、切り替えたあとも自動で送信を続けます</source>
        <translation>The {payments} unsent payments and {stamps} unsent stamps keep being sent automatically after the switch</translation>
    </message>
    <message>
        <source>ブースの確認に失敗しました: {error}</source>
        <translation>Checking the booth failed: {error}</translation>
    </message>
    <message>
        <source>この端末（端末ID {terminal}）は、どのスタンプラリーのブースにも登録されていません。運営事務局にブースとして登録してもらってから、もう一度開いてください</source>
        <translation>This terminal (terminal ID {terminal}) is not registered as a booth of any stamp rally. Ask the rally office to register it as a booth, then open this screen again.</translation>
    </message>
    <message>
        <source>サーバーにつながらないため、この端末がブースか確認できません。ネットワークにつないでから、もう一度開いてください</source>
        <translation>The server cannot be reached, so it is unknown whether this terminal is a booth. Connect to the network and open this screen again.</translation>
    </message>
    <message>
        <source>この端末のスタンプラリー「{rally}」は {end} に終わりました。次のラリーのブースにするときは、運営事務局に登録を頼んでください</source>
        <translation>This terminal's stamp rally "{rally}" ended on {end}. To make it a booth of the next rally, ask the rally office to register it.</translation>
    </message>
    <message>
        <source>ブース：{rally}　{booth}
期間 {start} 〜 {end}</source>
        <translation>Booth: {rally}   {booth}
Runs {start} to {end}</translation>
    </message>
    <message>
        <source>まだ始まっていません。{start} からスタンプを押せます</source>
        <translation>The rally has not started yet. Stamps can be given from {start}.</translation>
    </message>
    <message>
        <source>サーバーにつながらないため、前回受け取った情報です</source>
        <translation>The server cannot be reached, so this is the information received last time.</translation>
    </message>
    <message>
        <source>設定ファイルの場所が決まっていないため保存できません</source>
        <translation>Cannot save because the location of the configuration file is not set</translation>
    </message>
    <message>
        <source>設定を保存しています…</source>
        <translation>Saving the setting…</translation>
    </message>
    <message>
        <source>切り替えました</source>
        <translation>Switched</translation>
    </message>
    <message>
        <source>保存できませんでした: {error}</source>
        <translation>Could not save: {error}</translation>
    </message>
    <message>
        <source>処理に失敗しました: {error}</source>
        <translation>The operation failed: {error}</translation>
    </message>
</context>
<context>
    <name>ModeSwitcher</name>
    <message>
        <source>お会計の途中のため切り替えられません。お会計を終えてから、もう一度開いてください</source>
        <translation>A sale is in progress, so the terminal cannot be switched. Finish the sale, then open this screen again.</translation>
    </message>
    <message>
        <source>スタンプを記録しています。少し待ってから、もう一度開いてください</source>
        <translation>A stamp is being recorded. Wait a moment, then open this screen again.</translation>
    </message>
    <message>
        <source>お会計の途中のため切り替えられません。お会計を終えるか、金額を「C（クリア）」で、クーポンを「クーポンを外す」で消してから、もう一度開いてください</source>
        <translation>A sale is in progress, so the terminal cannot be switched. Finish the sale, or clear the amount with &quot;C (Clear)&quot; and the coupon with &quot;Remove coupon&quot;, then open this screen again.</translation>
    </message>
</context>
</TS>
