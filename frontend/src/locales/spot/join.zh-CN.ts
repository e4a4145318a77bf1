// 现场抽测：干警加入页面的文字（随该页面加载，不进入主包；首页入口的文字在 ../zh-CN.ts 的 spot 下）。
// join.en.ts 必须有同样的键。
export default {
  spot: {
    join: {
      title: '加入现场抽测',
      subtitle: '评估组现场抽测',
      entryHint: '请输入评估组出示的 6 位抽测码，或直接用手机扫描二维码。',
      code: '抽测码',
      codePlaceholder: '6 位数字',
      codeInvalid: '抽测码是 6 位数字。',
      submit: '加入',
      joining: '正在加入…',
      oralWaiting: '您已加入本次现场提问，请按评估组的安排回答问题。',
      late: '您是在抽取后较晚加入的，已记为迟到。',
      home: '返回首页',
      retrying: '抽测开始后将自动加入（每 {n} 秒重试）…',
      fixCode: '重新输入抽测码',
      otherCode: '输入其他抽测码',
      errors: {
        spot_code_invalid: '抽测码无效或抽测已结束，请核对后重新输入。',
        spot_not_started: '评估组还没有开始抽取，请稍候。',
        spot_not_drawn: '您没有被抽中参加本次抽测，无需作答。',
        spot_out_of_scope: '本次抽测面向其他单位，您不在参加范围内。',
        spot_other_device: '您已在另一部手机上加入。请继续使用那部手机，或请评估组为您解绑后再加入。',
        validation_error: '抽测码是 6 位数字。',
        role_forbidden: '该账号不能加入现场抽测。',
      },
    },
  },
}
